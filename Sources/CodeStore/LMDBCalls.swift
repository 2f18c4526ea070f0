import CLMDB
import CMappedFaults

// The LMDB calls that walk the file's pages, marked for the stall watchdog (CMappedFaults.h):
// a cycle of damaged pages can make LMDB loop forever, and the CLI then reports a damaged
// index instead of hanging. Each shadows the C function of the same name inside CodeStore, so
// every call site goes through it. Not marked: commits and copies (they may rightly take long),
// and calls that touch no page.

@inline(__always) private func marked<T>(_ body: () -> T) -> T {
    twentyq_lmdb_enter()
    defer { twentyq_lmdb_leave() }
    return body()
}

func mdb_get(_ txn: OpaquePointer!, _ dbi: MDB_dbi, _ key: UnsafeMutablePointer<MDB_val>!, _ data: UnsafeMutablePointer<MDB_val>!) -> Int32 {
    marked { CLMDB.mdb_get(txn, dbi, key, data) }
}

func mdb_put(_ txn: OpaquePointer!, _ dbi: MDB_dbi, _ key: UnsafeMutablePointer<MDB_val>!, _ data: UnsafeMutablePointer<MDB_val>!,
             _ flags: UInt32) -> Int32 {
    marked { CLMDB.mdb_put(txn, dbi, key, data, flags) }
}

func mdb_del(_ txn: OpaquePointer!, _ dbi: MDB_dbi, _ key: UnsafeMutablePointer<MDB_val>!, _ data: UnsafeMutablePointer<MDB_val>!) -> Int32 {
    marked { CLMDB.mdb_del(txn, dbi, key, data) }
}

func mdb_cursor_get(_ cursor: OpaquePointer!, _ key: UnsafeMutablePointer<MDB_val>!, _ data: UnsafeMutablePointer<MDB_val>!,
                    _ op: MDB_cursor_op) -> Int32 {
    marked { CLMDB.mdb_cursor_get(cursor, key, data, op) }
}

func mdb_cursor_count(_ cursor: OpaquePointer!, _ count: UnsafeMutablePointer<Int>!) -> Int32 {
    marked { CLMDB.mdb_cursor_count(cursor, count) }
}

func mdb_dbi_open(_ txn: OpaquePointer!, _ name: UnsafePointer<CChar>!, _ flags: UInt32, _ dbi: UnsafeMutablePointer<MDB_dbi>!) -> Int32 {
    marked { CLMDB.mdb_dbi_open(txn, name, flags, dbi) }
}

func mdb_stat(_ txn: OpaquePointer!, _ dbi: MDB_dbi, _ stat: UnsafeMutablePointer<MDB_stat>!) -> Int32 {
    marked { CLMDB.mdb_stat(txn, dbi, stat) }
}

/// Read transactions only: beginning a write transaction rightly waits as long as another
/// writer holds the index.
func mdb_txn_begin(_ env: OpaquePointer!, _ parent: OpaquePointer!, _ flags: UInt32, _ txn: UnsafeMutablePointer<OpaquePointer?>!) -> Int32 {
    if flags & UInt32(MDB_RDONLY) == 0 { return CLMDB.mdb_txn_begin(env, parent, flags, txn) }
    return marked { CLMDB.mdb_txn_begin(env, parent, flags, txn) }
}
