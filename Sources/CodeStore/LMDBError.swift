import CLMDB

/// An LMDB failure: the return code, the call that returned it, and LMDB's own text.
/// All C return codes become errors in exactly one place, `check(_:_:)`. Match on `code`
/// (or the statics below), never on the message.
public struct LMDBError: Error, Equatable, CustomStringConvertible {
    /// LMDB's or the system's error number (negative values are LMDB's own, positive errno).
    public let code: Int32
    /// The C function that failed, e.g. "mdb_put".
    public let operation: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// `mdb_strerror` text for `code`.
    public var message: String { String(cString: mdb_strerror(code)) }

    public var description: String { "\(operation): \(message) (\(code))" }

    public static func == (a: LMDBError, b: LMDBError) -> Bool { a.code == b.code }

    // Readable statics for the codes callers branch on (lmdb.h).
    public static let notFound = LMDBError(code: MDB_NOTFOUND, operation: "")
    public static let mapFull = LMDBError(code: MDB_MAP_FULL, operation: "")
    public static let mapResized = LMDBError(code: MDB_MAP_RESIZED, operation: "")
    public static let invalid = LMDBError(code: MDB_INVALID, operation: "")
    public static let corrupted = LMDBError(code: MDB_CORRUPTED, operation: "")
    public static let versionMismatch = LMDBError(code: MDB_VERSION_MISMATCH, operation: "")
    public static let readersFull = LMDBError(code: MDB_READERS_FULL, operation: "")

    /// The data file is damaged or not an LMDB file at all.
    public var isCorruption: Bool {
        code == MDB_INVALID || code == MDB_CORRUPTED || code == MDB_PAGE_NOTFOUND || code == MDB_VERSION_MISMATCH
    }
}

/// Throws an `LMDBError` for a non-zero LMDB return code.
@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
    if rc != 0 { throw LMDBError(code: rc, operation: operation()) }
}
