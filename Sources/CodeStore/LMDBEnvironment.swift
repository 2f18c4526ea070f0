import CLMDB
import CMappedFaults
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One open LMDB environment (`MDB_env`), owned by this object and closed in `deinit`.
///
/// Transactions exist only inside `read` and `write` closures. The environment is opened with
/// `MDB_NOTLS`, so read transactions are not tied to threads (Swift tasks share threads; without
/// it a second read transaction on one thread fails with `MDB_BAD_RSLOT`). A transaction itself
/// still belongs to the thread that runs its closure: keep the closures synchronous.
///
/// The memory map grows by itself: a write that hits `MDB_MAP_FULL` is aborted, the map is
/// doubled (with no transaction of this process open, as `mdb_env_set_mapsize` requires),
/// and the write closure runs again. A reader that finds the map grown by another process
/// (`MDB_MAP_RESIZED`) adopts the new size and retries.
package final class LMDBEnvironment: @unchecked Sendable {
    let handle: OpaquePointer
    /// Opened with `MDB_RDONLY`.
    package let isReadOnly: Bool
    /// Transactions hold this shared; resizing the map holds it exclusively.
    private var mapLock = pthread_rwlock_t()
    private var mapSize: Int
    /// The address the map starts at (see `committedRange`); found again after the map moves.
    private var mapStart: UInt?
    private let mapStartLock = NSLock()

    /// Opens (creating when allowed) the environment in directory `path`.
    /// - Parameters:
    ///   - path: an existing directory; LMDB keeps `data.mdb` and `lock.mdb` in it.
    ///   - readOnly: open with `MDB_RDONLY`; writes then fail.
    ///   - mapSize: initial map size in bytes; grows on demand. A large map costs no disk.
    ///   - maxDatabases: named databases the environment may hold.
    /// - Throws: `LMDBError` from `mdb_env_create`, `mdb_env_set_*` or `mdb_env_open`; the
    ///   half-made environment is closed first.
    package init(path: String, readOnly: Bool, mapSize: Int = 256 << 20, maxDatabases: UInt32 = 16) throws {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(code: ENOMEM, operation: "mdb_env_create") }
        do {
            try check(mdb_env_set_maxdbs(env, maxDatabases), "mdb_env_set_maxdbs")
            // LMDB asserts (and aborts) on some damaged pages; see CMappedFaults.h.
            try check(mdb_env_set_assert(env, twentyq_lmdb_assert), "mdb_env_set_assert")
            try check(mdb_env_set_mapsize(env, mapSize), "mdb_env_set_mapsize")
            var flags = UInt32(MDB_NOTLS)
            if readOnly { flags |= UInt32(MDB_RDONLY) }
            try check(mdb_env_open(env, path, flags, 0o664), "mdb_env_open")
        } catch {
            mdb_env_close(env)
            throw error
        }
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        self.handle = env
        self.isReadOnly = readOnly
        self.mapSize = max(mapSize, info.me_mapsize)
        pthread_rwlock_init(&mapLock, nil)
    }

    deinit {
        mdb_env_close(handle)
        pthread_rwlock_destroy(&mapLock)
    }

    /// Bytes of the file that LMDB's last committed page reaches: (last page number + 1) x page
    /// size (`mdb_env_info`, `mdb_env_stat`). A data file shorter than this was cut short.
    /// `Int.max` when a damaged meta page gives a product past it (no file is that long).
    package var usedBytes: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        var stat = MDB_stat()
        mdb_env_stat(handle, &stat)
        let (pages, overflow) = info.me_last_pgno.addingReportingOverflow(1)
        let (bytes, tooMany) = pages.multipliedReportingOverflow(by: Int(stat.ms_psize))
        return overflow || tooMany || bytes < 0 ? Int.max : bytes
    }

    /// The addresses where committed pages live in the map: values a read transaction returns
    /// must lie inside (LMDB trusts the sizes stored in pages; a damaged page could otherwise
    /// send a reader past the end of the file, which is SIGBUS).
    func committedRange() -> Range<UInt>? {
        let start: UInt? = mapStartLock.withLock {
            if mapStart == nil { mapStart = findMapStart() }
            return mapStart
        }
        guard let start else { return nil }
        let (end, overflow) = start.addingReportingOverflow(UInt(usedBytes))
        return start ..< (overflow ? UInt.max : end)
    }

    /// Where the map begins: LMDB does not say (`me_mapaddr` is set only for fixed maps), so
    /// the mapping of /proc/self/maps that holds a value just read from the map is taken (Linux;
    /// elsewhere nil, and values go unchecked). Nil for an empty environment.
    private func findMapStart() -> UInt? {
        var txn: OpaquePointer?
        guard mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn) == 0 else { return nil }
        defer { mdb_txn_abort(txn) }
        var cursor: OpaquePointer?
        guard mdb_cursor_open(txn, 1, &cursor) == 0 else { return nil }  // 1: LMDB's main database
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val(), value = MDB_val()
        guard mdb_cursor_get(cursor, &key, &value, MDB_FIRST) == 0, let probe = key.mv_data else { return nil }
        let address = UInt(bitPattern: probe)
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return nil }
        for line in maps.split(separator: "\n") {
            let range = line.prefix { $0 != " " }.split(separator: "-")
            guard range.count == 2, let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16) else { continue }
            if lo <= address && address < hi { return lo }
        }
        return nil
    }

    /// Writes a consistent copy of the environment into the empty directory `path`, compacted
    /// (free pages left out, pages renumbered: `mdb_env_copy2` with `MDB_CP_COMPACT`). It runs in
    /// a read transaction of its own, so writers go on meanwhile and the copy holds the last
    /// state committed when it began.
    package func copy(to path: String) throws {
        try check(mdb_env_copy2(handle, path, UInt32(MDB_CP_COMPACT)), "mdb_env_copy2")
    }

    /// Current map size in bytes.
    package var currentMapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Runs `body` in a read-only transaction (`mdb_txn_begin` with `MDB_RDONLY`), then
    /// ends it (`mdb_txn_commit`, which keeps database handles opened inside). Readers see one consistent snapshot and never block the writer.
    /// - Lifetime: bytes borrowed from the transaction are valid only during the execution of
    ///   the closure.
    package func read<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        while true {
            pthread_rwlock_rdlock(&mapLock)
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(handle, nil, UInt32(MDB_RDONLY), &txn)
            if rc == MDB_MAP_RESIZED {
                pthread_rwlock_unlock(&mapLock)
                try adoptGrownMap()
                continue
            }
            defer { pthread_rwlock_unlock(&mapLock) }
            try check(rc, "mdb_txn_begin")
            // Committing (not aborting) a read transaction keeps database handles it opened.
            return try finish(txn!, body, bounds: committedRange())
        }
    }

    /// Runs `body` in a write transaction: commits when it returns, aborts when it throws.
    /// Writers are serialised by LMDB across threads and processes.
    /// - Important: `body` may run more than once: when the map is full the transaction is
    ///   aborted, the map grown and `body` called again from the start. Keep side effects
    ///   outside the store inside the transaction's own data.
    package func write<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        var attempts = 0
        while true {
            attempts += 1
            do {
                return try writeOnce(body)
            } catch let error as LMDBError where error.code == MDB_MAP_FULL && attempts < 24 {
                try growMap()
            } catch let error as LMDBError where error.code == MDB_MAP_RESIZED && attempts < 24 {
                try adoptGrownMap()
            }
        }
    }

    private func writeOnce<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
        pthread_rwlock_rdlock(&mapLock)
        defer { pthread_rwlock_unlock(&mapLock) }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, 0, &txn), "mdb_txn_begin")
        // A write transaction's own pages live in the heap until commit: no bounds to check.
        return try finish(txn!, body, bounds: nil)
    }

    /// Runs `body` in the open transaction `txn`, then commits it (`mdb_txn_commit` frees the
    /// transaction even when it fails), or aborts it when `body` throws.
    private func finish<R>(_ txn: OpaquePointer, _ body: (LMDBTransaction) throws -> R, bounds: Range<UInt>?) throws -> R {
        let result: R
        do {
            result = try body(LMDBTransaction(handle: txn, environment: self, bounds: bounds))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
        return result
    }

    /// Doubles the map. Waits until no transaction of this process is open.
    private func growMap() throws {
        pthread_rwlock_wrlock(&mapLock)
        defer { pthread_rwlock_unlock(&mapLock) }
        let target = max(mapSize, currentMapSize) * 2
        try check(mdb_env_set_mapsize(handle, target), "mdb_env_set_mapsize")
        mapSize = target
        mapStartLock.withLock { mapStart = nil }
    }

    /// Takes the map size another process has set (`mdb_env_set_mapsize(env, 0)`).
    private func adoptGrownMap() throws {
        pthread_rwlock_wrlock(&mapLock)
        defer { pthread_rwlock_unlock(&mapLock) }
        try check(mdb_env_set_mapsize(handle, 0), "mdb_env_set_mapsize")
        mapSize = currentMapSize
        mapStartLock.withLock { mapStart = nil }
    }

    /// Opens (or, in a write transaction, creates) the named database `name`, with LMDB's
    /// database `flags` (such as `MDB_DUPSORT`). Handles stay valid for the environment's life
    /// once their transaction commits.
    package func openDatabase(_ name: String, create: Bool, flags: UInt32 = 0) throws -> LMDBDatabase {
        let open = { (txn: LMDBTransaction) throws -> LMDBDatabase in
            var dbi = MDB_dbi()
            try check(mdb_dbi_open(txn.handle, name, (create ? UInt32(MDB_CREATE) : 0) | flags, &dbi), "mdb_dbi_open(\(name))")
            return LMDBDatabase(dbi: dbi, name: name)
        }
        return create ? try write(open) : try read(open)
    }
}

/// A named database inside an environment (`MDB_dbi`).
package struct LMDBDatabase: Sendable {
    let dbi: MDB_dbi
    package let name: String
}
