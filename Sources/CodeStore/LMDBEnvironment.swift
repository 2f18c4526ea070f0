import CLMDB
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
public final class LMDBEnvironment: @unchecked Sendable {
    let handle: OpaquePointer
    /// Opened with `MDB_RDONLY`.
    public let isReadOnly: Bool
    /// Transactions hold this shared; resizing the map holds it exclusively.
    private var mapLock = pthread_rwlock_t()
    private var mapSize: Int

    /// Opens (creating when allowed) the environment in directory `path`.
    /// - Parameters:
    ///   - path: an existing directory; LMDB keeps `data.mdb` and `lock.mdb` in it.
    ///   - readOnly: open with `MDB_RDONLY`; writes then fail.
    ///   - mapSize: initial map size in bytes; grows on demand. A large map costs no disk.
    ///   - maxDatabases: named databases the environment may hold.
    /// - Throws: `LMDBError` from `mdb_env_create`, `mdb_env_set_*` or `mdb_env_open`; the
    ///   half-made environment is closed first.
    public init(path: String, readOnly: Bool, mapSize: Int = 256 << 20, maxDatabases: UInt32 = 8) throws {
        var env: OpaquePointer?
        try check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw LMDBError(code: ENOMEM, operation: "mdb_env_create") }
        do {
            try check(mdb_env_set_maxdbs(env, maxDatabases), "mdb_env_set_maxdbs")
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

    /// Current map size in bytes.
    public var currentMapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return info.me_mapsize
    }

    /// Runs `body` in a read-only transaction (`mdb_txn_begin` with `MDB_RDONLY`), then
    /// ends it (`mdb_txn_commit`, which keeps database handles opened inside). Readers see one consistent snapshot and never block the writer.
    /// - Lifetime: bytes borrowed from the transaction are valid only during the execution of
    ///   the closure.
    public func read<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
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
            return try finish(txn!, body)
        }
    }

    /// Runs `body` in a write transaction: commits when it returns, aborts when it throws.
    /// Writers are serialised by LMDB across threads and processes.
    /// - Important: `body` may run more than once: when the map is full the transaction is
    ///   aborted, the map grown and `body` called again from the start. Keep side effects
    ///   outside the store inside the transaction's own data.
    public func write<R>(_ body: (LMDBTransaction) throws -> R) throws -> R {
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
        return try finish(txn!, body)
    }

    /// Runs `body` in the open transaction `txn`, then commits it (`mdb_txn_commit` frees the
    /// transaction even when it fails), or aborts it when `body` throws.
    private func finish<R>(_ txn: OpaquePointer, _ body: (LMDBTransaction) throws -> R) throws -> R {
        let result: R
        do {
            result = try body(LMDBTransaction(handle: txn, environment: self))
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
    }

    /// Takes the map size another process has set (`mdb_env_set_mapsize(env, 0)`).
    private func adoptGrownMap() throws {
        pthread_rwlock_wrlock(&mapLock)
        defer { pthread_rwlock_unlock(&mapLock) }
        try check(mdb_env_set_mapsize(handle, 0), "mdb_env_set_mapsize")
        mapSize = currentMapSize
    }

    /// Opens (or, in a write transaction, creates) the named database `name`.
    /// Handles stay valid for the environment's life once their transaction commits.
    public func openDatabase(_ name: String, create: Bool) throws -> LMDBDatabase {
        let open = { (txn: LMDBTransaction) throws -> LMDBDatabase in
            var dbi = MDB_dbi()
            try check(mdb_dbi_open(txn.handle, name, create ? UInt32(MDB_CREATE) : 0, &dbi), "mdb_dbi_open(\(name))")
            return LMDBDatabase(dbi: dbi, name: name)
        }
        return create ? try write(open) : try read(open)
    }
}

/// A named database inside an environment (`MDB_dbi`).
public struct LMDBDatabase: Sendable {
    let dbi: MDB_dbi
    public let name: String
}
