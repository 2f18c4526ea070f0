import CLMDB

/// A transaction handle, valid only during the `read` or `write` closure that received it.
/// Values returned as `UnsafeRawBufferPointer` point into the memory map and are valid only
/// until the transaction ends; copy what must outlive it.
package struct LMDBTransaction {
    let handle: OpaquePointer
    let environment: LMDBEnvironment
    /// For read transactions, where values may lie (the committed pages of the map).
    let bounds: Range<UInt>?

    /// The transaction's id (`mdb_txn_id`); for a read transaction, the id of the snapshot it
    /// reads, the same for every reader of that snapshot.
    var snapshot: Int { Int(mdb_txn_id(handle)) }

    /// `value` as a buffer, after checking that it lies in the committed pages: a damaged page
    /// is `MDB_CORRUPTED`, never a read past the end of the file.
    @inline(__always)
    func borrowed(_ value: MDB_val, _ operation: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        if let bounds, value.mv_size > 0 {
            let start = UInt(bitPattern: value.mv_data)
            let (end, overflow) = start.addingReportingOverflow(UInt(value.mv_size))
            guard !overflow, start >= bounds.lowerBound, end <= bounds.upperBound else {
                throw LMDBError(code: MDB_CORRUPTED, operation: operation())
            }
        }
        return UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
    }

    /// The value stored under `key`, borrowed from the map, or nil when absent (`mdb_get`).
    /// - Lifetime: valid only during the execution of the transaction's closure.
    package func get(_ db: LMDBDatabase, key: some Collection<UInt8>) throws -> UnsafeRawBufferPointer? {
        try Array(key).withUnsafeBytes { k in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var value = MDB_val()
            let rc = mdb_get(handle, db.dbi, &keyVal, &value)
            if rc == MDB_NOTFOUND { return nil }
            try check(rc, "mdb_get(\(db.name))")
            return try borrowed(value, "mdb_get(\(db.name))")
        }
    }

    /// Stores `value` under `key`, replacing any old value (`mdb_put`).
    package func put(_ db: LMDBDatabase, key: some Collection<UInt8>, value: UnsafeRawBufferPointer) throws {
        try Array(key).withUnsafeBytes { k in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var dataVal = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
            try check(mdb_put(handle, db.dbi, &keyVal, &dataVal, 0), "mdb_put(\(db.name))")
        }
    }

    /// Stores a value of `count` bytes under `key` that `fill` writes in place in the map
    /// (`mdb_put` with `MDB_RESERVE`): no copy of a large value outside the map. `fill` must
    /// write every byte.
    package func put(_ db: LMDBDatabase, key: some Collection<UInt8>, reserving count: Int,
                    _ fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        try Array(key).withUnsafeBytes { k in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var dataVal = MDB_val(mv_size: count, mv_data: nil)
            try check(mdb_put(handle, db.dbi, &keyVal, &dataVal, UInt32(MDB_RESERVE)), "mdb_put(\(db.name))")
            try fill(UnsafeMutableRawBufferPointer(start: dataVal.mv_data, count: count))
        }
    }

    /// Stores the bytes of `value` under `key`.
    package func put(_ db: LMDBDatabase, key: some Collection<UInt8>, bytes value: some Collection<UInt8>) throws {
        try Array(value).withUnsafeBytes { try put(db, key: key, value: $0) }
    }

    /// Deletes `key`; returns false when it was absent (`mdb_del`).
    @discardableResult
    package func delete(_ db: LMDBDatabase, key: some Collection<UInt8>) throws -> Bool {
        try Array(key).withUnsafeBytes { k in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            let rc = mdb_del(handle, db.dbi, &keyVal, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc, "mdb_del(\(db.name))")
            return true
        }
    }

    /// Adds (`mdb_put` with `MDB_NODUPDATA`) or deletes (`mdb_del` with data) one pair of a
    /// sorted-duplicates database whose keys are (UInt32, UInt64) and values UInt16, all
    /// big-endian, without allocating (the lexical stage's postings: millions of calls per bulk
    /// load). Returns false when the pair was already there (add) or absent (delete).
    @discardableResult
    package func duplicate(_ db: LMDBDatabase, key: (UInt32, UInt64), value: UInt16, delete: Bool) throws -> Bool {
        // Three UInt32 are 12 contiguous bytes (a (UInt32, UInt64) tuple would be padded).
        var k = (key.0.bigEndian, UInt32(truncatingIfNeeded: key.1 >> 32).bigEndian, UInt32(truncatingIfNeeded: key.1).bigEndian)
        var v = value.bigEndian
        return try withUnsafeMutableBytes(of: &k) { kb in
            try withUnsafeMutableBytes(of: &v) { vb in
                var keyVal = MDB_val(mv_size: 12, mv_data: kb.baseAddress)
                var dataVal = MDB_val(mv_size: 2, mv_data: vb.baseAddress)
                let rc = delete ? mdb_del(handle, db.dbi, &keyVal, &dataVal)
                                : mdb_put(handle, db.dbi, &keyVal, &dataVal, UInt32(MDB_NODUPDATA))
                if rc == MDB_NOTFOUND || rc == MDB_KEYEXIST { return false }
                try check(rc, delete ? "mdb_del(\(db.name))" : "mdb_put(\(db.name))")
                return true
            }
        }
    }

    /// Adds the pairs that `next` gives (in ascending order of key, then value, for speed; any
    /// order is correct) as `duplicate` adds one, through one cursor (`mdb_cursor_put` with
    /// `MDB_NODUPDATA`): with the keys ascending, a key on the leaf page the cursor is on is found
    /// without descending from the root (`mdb_put` opens a cursor and descends for every pair).
    /// A pair already there is left as it is. `next` returns nil at the end.
    package func addDuplicates(_ db: LMDBDatabase, _ next: () -> (key: (UInt32, UInt64), value: UInt16)?) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
        defer { mdb_cursor_close(cursor) }
        while let (key, value) = next() {
            var k = (key.0.bigEndian, UInt32(truncatingIfNeeded: key.1 >> 32).bigEndian, UInt32(truncatingIfNeeded: key.1).bigEndian)
            var v = value.bigEndian
            try withUnsafeMutableBytes(of: &k) { kb in
                try withUnsafeMutableBytes(of: &v) { vb in
                    var keyVal = MDB_val(mv_size: 12, mv_data: kb.baseAddress)
                    var dataVal = MDB_val(mv_size: 2, mv_data: vb.baseAddress)
                    let rc = mdb_cursor_put(cursor, &keyVal, &dataVal, UInt32(MDB_NODUPDATA))
                    if rc != MDB_KEYEXIST { try check(rc, "mdb_cursor_put(\(db.name))") }
                }
            }
        }
    }

    /// The values under UInt64 big-endian `keys` (nil where absent), borrowed from the map, through
    /// one cursor: with the keys ascending, a key on the leaf page the cursor is on is found
    /// without descending from the root.
    package func getSorted(_ db: LMDBDatabase, keys: [UInt64]) throws -> [UnsafeRawBufferPointer?] {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
        defer { mdb_cursor_close(cursor) }
        return try keys.map { key in
            var k = key.bigEndian
            return try withUnsafeMutableBytes(of: &k) { kb -> UnsafeRawBufferPointer? in
                var keyVal = MDB_val(mv_size: 8, mv_data: kb.baseAddress)
                var value = MDB_val()
                let rc = mdb_cursor_get(cursor, &keyVal, &value, MDB_SET)
                if rc == MDB_NOTFOUND { return nil }
                try check(rc, "mdb_cursor_get(\(db.name))")
                return try borrowed(value, "mdb_cursor_get(\(db.name))")
            }
        }
    }

    /// Adds each change to the UInt32 LE counter stored under its UInt64 big-endian key (absent:
    /// 0), deleting counters that reach 0, through one cursor: with the changes in ascending key
    /// order, neighbouring keys are found on the leaf page the cursor is on, and an existing
    /// counter is overwritten in place (`MDB_CURRENT`) without a second descent.
    /// - Throws: `LMDBError`, and `Overflow` when a counter would leave 0...UInt32.max.
    package func addToCounters(_ db: LMDBDatabase, _ changes: [(key: UInt64, change: Int)]) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
        defer { mdb_cursor_close(cursor) }
        for (key, change) in changes where change != 0 {
            var k = key.bigEndian
            try withUnsafeMutableBytes(of: &k) { kb in
                var keyVal = MDB_val(mv_size: 8, mv_data: kb.baseAddress)
                var found = MDB_val()
                let rc = mdb_cursor_get(cursor, &keyVal, &found, MDB_SET_KEY)
                var old = 0
                if rc == 0 {
                    guard found.mv_size == 4 else { throw CounterOverflow(key: key, value: -1) }
                    old = Int(UInt32(littleEndian: found.mv_data.loadUnaligned(as: UInt32.self)))
                } else if rc != MDB_NOTFOUND {
                    try check(rc, "mdb_cursor_get(\(db.name))")
                }
                let new = old + change
                guard new >= 0, new <= Int(UInt32.max) else { throw CounterOverflow(key: key, value: new) }
                if new == 0 {
                    if rc == 0 { try check(mdb_cursor_del(cursor, 0), "mdb_cursor_del(\(db.name))") }
                    return
                }
                var v = UInt32(new).littleEndian
                try withUnsafeMutableBytes(of: &v) { vb in
                    var value = MDB_val(mv_size: 4, mv_data: vb.baseAddress)
                    try check(mdb_cursor_put(cursor, &keyVal, &value, rc == 0 ? UInt32(MDB_CURRENT) : 0), "mdb_cursor_put(\(db.name))")
                }
            }
        }
    }

    /// A counter of `addToCounters` that is malformed (value -1) or would leave its range.
    package struct CounterOverflow: Error {
        let key: UInt64, value: Int
    }

    /// Whether the pair (`key`, `value`) is stored in a sorted-duplicates database of the
    /// layout `duplicate` writes (`mdb_cursor_get` with `MDB_GET_BOTH`).
    package func containsDuplicate(_ db: LMDBDatabase, key: (UInt32, UInt64), value: UInt16) throws -> Bool {
        var k = (key.0.bigEndian, UInt32(truncatingIfNeeded: key.1 >> 32).bigEndian, UInt32(truncatingIfNeeded: key.1).bigEndian)
        var v = value.bigEndian
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
        defer { mdb_cursor_close(cursor) }
        return try withUnsafeMutableBytes(of: &k) { kb in
            try withUnsafeMutableBytes(of: &v) { vb in
                var keyVal = MDB_val(mv_size: 12, mv_data: kb.baseAddress)
                var dataVal = MDB_val(mv_size: 2, mv_data: vb.baseAddress)
                let rc = mdb_cursor_get(cursor, &keyVal, &dataVal, MDB_GET_BOTH)
                if rc == MDB_NOTFOUND { return false }
                try check(rc, "mdb_cursor_get(\(db.name))")
                return true
            }
        }
    }

    /// Calls `body` with the duplicates stored under `key` in a sorted-duplicates database of
    /// fixed-size values (`MDB_DUPFIXED`), a page at a time (`MDB_GET_MULTIPLE`,
    /// `MDB_NEXT_MULTIPLE`), until it returns false. Returns the number of duplicates under
    /// `key` (`mdb_cursor_count`), 0 when the key is absent; with `countOnly` no value is read.
    /// - Lifetime: each buffer is valid only during the transaction's closure.
    @discardableResult
    package func forEachDuplicate(_ db: LMDBDatabase, key: some Collection<UInt8>, countOnly: Bool = false,
                                 _ body: (UnsafeRawBufferPointer) throws -> Bool = { _ in true }) throws -> Int {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
        defer { mdb_cursor_close(cursor) }
        return try Array(key).withUnsafeBytes { k -> Int in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var value = MDB_val()
            var rc = mdb_cursor_get(cursor, &keyVal, &value, MDB_SET)
            if rc == MDB_NOTFOUND { return 0 }
            try check(rc, "mdb_cursor_get(\(db.name))")
            var count = 0
            try check(mdb_cursor_count(cursor, &count), "mdb_cursor_count(\(db.name))")
            if countOnly { return count }
            var op = MDB_GET_MULTIPLE
            while true {
                rc = mdb_cursor_get(cursor, &keyVal, &value, op)
                if rc == MDB_NOTFOUND { break }
                try check(rc, "mdb_cursor_get(\(db.name))")
                if try !body(try borrowed(value, "mdb_cursor_get(\(db.name))")) { break }
                op = MDB_NEXT_MULTIPLE
            }
            return count
        }
    }

    /// LMDB's statistics of `db` (`mdb_stat`): tree depth, pages by kind, entries.
    package func statistics(_ db: LMDBDatabase) throws -> TableStatistics {
        var stat = MDB_stat()
        try check(mdb_stat(handle, db.dbi, &stat), "mdb_stat(\(db.name))")
        return TableStatistics(depth: Int(stat.ms_depth), branchPages: stat.ms_branch_pages, leafPages: stat.ms_leaf_pages,
                               overflowPages: stat.ms_overflow_pages, entries: stat.ms_entries, pageSize: Int(stat.ms_psize))
    }

    /// Number of entries in `db` (`mdb_stat`).
    package func entryCount(_ db: LMDBDatabase) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, db.dbi, &stat), "mdb_stat(\(db.name))")
        return stat.ms_entries
    }

    /// Calls `body` with each (key, value) of `db` in key order, until it returns false
    /// (`mdb_cursor_get` with `MDB_FIRST`/`MDB_NEXT`).
    /// - Lifetime: both buffers are valid only during the transaction's closure.
    package func forEach(_ db: LMDBDatabase,
                        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        try walk(db, step: MDB_NEXT) { _, key, value in
            try body(try borrowed(key, "mdb_cursor_get(\(db.name))"), try borrowed(value, "mdb_cursor_get(\(db.name))"))
        }
    }

    /// Calls `body` with each key of a `MDB_DUPSORT` table and the number of its values, in key
    /// order, until it returns false.
    package func forEachKeyCount(_ db: LMDBDatabase, _ body: (UnsafeRawBufferPointer, Int) throws -> Bool) throws {
        try walk(db, step: MDB_NEXT_NODUP) { cursor, key, _ in
            var count = 0
            try check(mdb_cursor_count(cursor, &count), "mdb_cursor_count(\(db.name))")
            return try body(try borrowed(key, "mdb_cursor_get(\(db.name))"), count)
        }
    }

    /// Walks `db` from its first entry by `step` (`MDB_NEXT`, `MDB_NEXT_NODUP`), calling `body`
    /// with the cursor, key and value until it returns false or the table ends.
    private func walk(_ db: LMDBDatabase, step: MDB_cursor_op, _ body: (OpaquePointer?, MDB_val, MDB_val) throws -> Bool) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val(), value = MDB_val()
        var op = MDB_FIRST
        while true {
            let rc = mdb_cursor_get(cursor, &key, &value, op)
            if rc == MDB_NOTFOUND { return }
            try check(rc, "mdb_cursor_get(\(db.name))")
            if try !body(cursor, key, value) { return }
            op = step
        }
    }
}

/// One table's LMDB statistics (`MDB_stat`).
public struct TableStatistics: Codable, Equatable, Sendable {
    public var depth: Int
    public var branchPages: Int
    public var leafPages: Int
    public var overflowPages: Int
    public var entries: Int
    public var pageSize: Int
    /// Bytes of the pages the table uses.
    public var bytes: Int { (branchPages + leafPages + overflowPages) * pageSize }
}
