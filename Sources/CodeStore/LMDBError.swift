import CLMDB

/// An LMDB failure: the return code, the call that returned it, and LMDB's own text.
/// All C return codes become errors in exactly one place, `check(_:_:)`. Match on `code`
/// (or the statics below), never on the message.
package struct LMDBError: Error, Equatable, CustomStringConvertible {
    /// LMDB's or the system's error number (negative values are LMDB's own, positive errno).
    package let code: Int32
    /// The C function that failed, e.g. "mdb_put".
    package let operation: String

    package init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// `mdb_strerror` text for `code`.
    package var message: String { String(cString: mdb_strerror(code)) }

    package var description: String { "\(operation): \(message) (\(code))" }

    package static func == (a: LMDBError, b: LMDBError) -> Bool { a.code == b.code }

    // Readable statics for the codes callers branch on (lmdb.h).
    package static let notFound = LMDBError(code: MDB_NOTFOUND, operation: "")
    package static let mapFull = LMDBError(code: MDB_MAP_FULL, operation: "")
    package static let mapResized = LMDBError(code: MDB_MAP_RESIZED, operation: "")
    package static let invalid = LMDBError(code: MDB_INVALID, operation: "")
    package static let corrupted = LMDBError(code: MDB_CORRUPTED, operation: "")
    package static let versionMismatch = LMDBError(code: MDB_VERSION_MISMATCH, operation: "")
    package static let readersFull = LMDBError(code: MDB_READERS_FULL, operation: "")

    /// The data file is damaged or not an LMDB file at all.
    package var isCorruption: Bool {
        code == MDB_INVALID || code == MDB_CORRUPTED || code == MDB_PAGE_NOTFOUND || code == MDB_VERSION_MISMATCH
    }
}

/// Throws an `LMDBError` for a non-zero LMDB return code.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
    if rc != 0 { throw LMDBError(code: rc, operation: operation()) }
}
