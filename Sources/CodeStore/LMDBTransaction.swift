import CLMDB

/// A transaction handle, valid only during the `read` or `write` closure that received it.
/// Values returned as `UnsafeRawBufferPointer` point into the memory map and are valid only
/// until the transaction ends; copy what must outlive it.
public struct LMDBTransaction {
    let handle: OpaquePointer
    let environment: LMDBEnvironment

    /// The value stored under `key`, borrowed from the map, or nil when absent (`mdb_get`).
    /// - Lifetime: valid only during the execution of the transaction's closure.
    public func get(_ db: LMDBDatabase, key: some Collection<UInt8>) throws -> UnsafeRawBufferPointer? {
        try Array(key).withUnsafeBytes { k in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var value = MDB_val()
            let rc = mdb_get(handle, db.dbi, &keyVal, &value)
            if rc == MDB_NOTFOUND { return nil }
            try check(rc, "mdb_get(\(db.name))")
            return UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size)
        }
    }

    /// Stores `value` under `key`, replacing any old value (`mdb_put`).
    public func put(_ db: LMDBDatabase, key: some Collection<UInt8>, value: UnsafeRawBufferPointer) throws {
        try Array(key).withUnsafeBytes { k in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var dataVal = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
            try check(mdb_put(handle, db.dbi, &keyVal, &dataVal, 0), "mdb_put(\(db.name))")
        }
    }

    /// Stores a value of `count` bytes under `key` that `fill` writes in place in the map
    /// (`mdb_put` with `MDB_RESERVE`): no copy of a large value outside the map. `fill` must
    /// write every byte.
    public func put(_ db: LMDBDatabase, key: some Collection<UInt8>, reserving count: Int,
                    _ fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        try Array(key).withUnsafeBytes { k in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var dataVal = MDB_val(mv_size: count, mv_data: nil)
            try check(mdb_put(handle, db.dbi, &keyVal, &dataVal, UInt32(MDB_RESERVE)), "mdb_put(\(db.name))")
            try fill(UnsafeMutableRawBufferPointer(start: dataVal.mv_data, count: count))
        }
    }

    /// Stores the bytes of `value` under `key`.
    public func put(_ db: LMDBDatabase, key: some Collection<UInt8>, bytes value: some Collection<UInt8>) throws {
        try Array(value).withUnsafeBytes { try put(db, key: key, value: $0) }
    }

    /// Deletes `key`; returns false when it was absent (`mdb_del`).
    @discardableResult
    public func delete(_ db: LMDBDatabase, key: some Collection<UInt8>) throws -> Bool {
        try Array(key).withUnsafeBytes { k in
            var keyVal = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            let rc = mdb_del(handle, db.dbi, &keyVal, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc, "mdb_del(\(db.name))")
            return true
        }
    }

    /// Number of entries in `db` (`mdb_stat`).
    public func entryCount(_ db: LMDBDatabase) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle, db.dbi, &stat), "mdb_stat(\(db.name))")
        return stat.ms_entries
    }

    /// Calls `body` with each (key, value) of `db` in key order, until it returns false
    /// (`mdb_cursor_get` with `MDB_FIRST`/`MDB_NEXT`).
    /// - Lifetime: both buffers are valid only during the transaction's closure.
    public func forEach(_ db: LMDBDatabase,
                        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor), "mdb_cursor_open(\(db.name))")
        defer { mdb_cursor_close(cursor) }
        var key = MDB_val(), value = MDB_val()
        var op = MDB_FIRST
        while true {
            let rc = mdb_cursor_get(cursor, &key, &value, op)
            if rc == MDB_NOTFOUND { return }
            try check(rc, "mdb_cursor_get(\(db.name))")
            let goOn = try body(UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size),
                                UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
            if !goOn { return }
            op = MDB_NEXT
        }
    }
}
