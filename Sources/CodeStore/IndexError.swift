/// Errors of a TwentyQ index, each naming the problem and what to do about it.
public enum IndexError: Error, CustomStringConvertible {
    /// No directory at `path`.
    case noIndex(path: String)
    /// `path` exists but is a file, not a directory.
    case notADirectory(path: String)
    /// `path` is a directory but not a TwentyQ index.
    case notAnIndex(path: String, reason: String)
    /// `path` already holds an index (on create).
    case alreadyExists(path: String)
    /// The directory or its files cannot be written (or read) by this user.
    case permissionDenied(path: String, operation: String)
    /// The data file is damaged.
    case corrupt(path: String, detail: String)
    /// Written by a newer TwentyQ.
    case unsupportedFormat(path: String, found: UInt32, supported: UInt32)
    /// A code whose width differs from the index's.
    case widthMismatch(path: String, indexBits: Int, codeBits: Int)
    /// An id that is not in the index.
    case unknownID(String)
    /// The same id twice in one batch.
    case duplicateID(String)
    /// An id that is empty or longer than LMDB's key limit.
    case invalidID(String, reason: String)
    /// The index was opened read-only.
    case readOnly(path: String)
    /// The index was made with another model.
    case modelMismatch(path: String, index: String, given: String)
    /// Any other storage failure, in the storage engine's words (LMDB's message and code).
    case storage(path: String, detail: String)
    /// The disk is full.
    case diskFull(path: String)
    /// The index holds another kind of data than asked for (text documents or vectors).
    case kindMismatch(path: String, holds: IndexKind, wanted: IndexKind)
    /// There is no index at the path yet, and a new index of this kind needs a model.
    case modelRequired(path: String, kind: IndexKind)
    /// A vector index that keeps codes only was asked to rescore with stored vectors.
    case noStoredVectors(path: String)
    /// A setting of the index outside its range.
    case invalidSetting(String)
    /// The model stored in the index cannot be read (its bytes changed since it was written).
    case damagedModel(path: String, detail: String)
    /// An operation that needs the index to itself (compact, repair) while others have it open.
    case inUse(path: String, operation: String)
    /// The multi-index hashing tables do not read as written; the codes are intact, and
    /// rebuilding the tables (`CodeIndex.configureMultiIndex(_:)`) or searching with
    /// `SearchOptions(multiIndex: .off)` does without them.
    case damagedTables(path: String, detail: String)

    public var description: String {
        switch self {
        case .noIndex(let path):
            return "no index at \(path): the directory does not exist (create one there, or open an existing index)"
        case .notADirectory(let path):
            return "\(path) is a file, not an index directory: pass the directory that holds data.mdb"
        case .notAnIndex(let path, let reason):
            return "\(path) is not a TwentyQ index: \(reason)"
        case .alreadyExists(let path):
            return "\(path) already holds an index: open it instead, or choose another directory"
        case .permissionDenied(let path, let operation):
            return "permission denied at \(path) while trying to \(operation): check the directory's owner and write permission, or use a copy you can write"
        case .corrupt(let path, let detail):
            return "the index at \(path) is damaged (\(detail)): restore it from a backup (`CodeIndex.backup(to:)` makes them) or repair it (`CodeIndex.repair(at:)`, which keeps every document it can still read)"
        case .unsupportedFormat(let path, let found, let supported):
            return "the index at \(path) has format version \(found), this TwentyQ reads up to \(supported): upgrade TwentyQ"
        case .widthMismatch(let path, let indexBits, let codeBits):
            return "the index at \(path) holds \(indexBits)-bit codes; got a \(codeBits)-bit code"
        case .unknownID(let id):
            return "no document with id '\(id)' in the index"
        case .duplicateID(let id):
            return "id '\(id)' appears more than once in one batch: ids must be unique"
        case .invalidID(let id, let reason):
            let shown = id.count > 60 ? String(id.prefix(60)) + "..." : id
            return "invalid id '\(shown)': \(reason)"
        case .readOnly(let path):
            return "the index at \(path) was opened read-only and cannot be changed"
        case .modelMismatch(let path, let index, let given):
            return "the index at \(path) was built with model \(index), not \(given): use that model or a new index"
        case .storage(let path, let detail):
            return "storage error at \(path): \(detail)"
        case .kindMismatch(let path, let holds, let wanted):
            return "the index at \(path) holds \(holds.rawValue), not \(wanted.rawValue): open it as a \(holds.typeName)"
        case .modelRequired(let path, let kind):
            return "there is no index at \(path) yet, and a new index of \(kind.rawValue) needs a model: pass one to \(kind.typeName).open(at:model:)"
        case .noStoredVectors(let path):
            return "the index at \(path) stores codes only, so it cannot rescore: search without rescoring, or index the vectors again into an index that stores them"
        case .invalidSetting(let detail):
            return "invalid index setting: \(detail)"
        case .damagedModel(let path, let detail):
            return "the model stored in the index at \(path) is damaged (\(detail)): restore the index from a backup, or index the documents again into a new index (its records still read: `CodeIndex.forEachRecord`)"
        case .damagedTables(let path, let detail):
            return "the multi-index tables of the index at \(path) are damaged (\(detail)); the codes are intact: rebuild the tables (`CodeIndex.configureMultiIndex(_:)`), or search without them (`SearchOptions(multiIndex: .off)`)"
        case .inUse(let path, let operation):
            return "cannot \(operation) at \(path) while it is open elsewhere (a search, an index run, a server, or another index object in this process): close those and try again; `CodeIndex.backup(to:)` copies an index that is in use"
        case .diskFull(let path):
            return "no space left on the device holding \(path): free some space and run again; committed data is intact"
        }
    }
}

/// What an index holds: text documents (`DocumentIndex`), dense vectors (`VectorIndex`), or
/// ready-made codes (`CodeIndex`).
public enum IndexKind: String, Sendable {
    case documents = "text documents"
    case vectors = "vectors"
    case codes = "ready-made codes"

    /// The library type that opens an index of this kind.
    public var typeName: String {
        switch self {
        case .documents: return "DocumentIndex"
        case .vectors: return "VectorIndex"
        case .codes: return "CodeIndex"
        }
    }
}
