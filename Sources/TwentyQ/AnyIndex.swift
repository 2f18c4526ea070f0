import CodeStore
import Foundation

/// An index of any kind, opened by what it holds: what a service or a tool that serves many
/// indexes needs (`twentyq serve`, `info`). Apps that know their index use its own type.
public enum AnyIndex: Sendable {
    /// An index of text documents.
    case documents(DocumentIndex)
    /// An index of dense vectors.
    case vectors(VectorIndex)
    /// An index of ready-made codes.
    case codes(CodeIndex)

    /// Opens the index at `path`, whatever it holds. Never creates one.
    /// - Throws: `IndexError.noIndex` when there is none, and the errors of the kind's `open`.
    public static func open(at path: String, readOnly: Bool = false) throws -> AnyIndex {
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else { throw IndexError.noIndex(path: path) }
        let store = try CodeIndex.open(at: path, readOnly: readOnly)
        switch try kind(of: store) {
        case .documents: return .documents(try DocumentIndex.open(existing: store))
        case .vectors: return .vectors(try VectorIndex.open(existing: store))
        case .codes: return .codes(store)
        }
    }

    /// What the index in `store` holds, from its blobs: the one place that tells the kinds
    /// apart (`DocumentIndex` and `VectorIndex` refuse the others through it).
    static func kind(of store: CodeIndex) throws -> IndexKind {
        if try store.blob(VectorIndex.settingsKey) != nil { return .vectors }
        return try store.blob(DocumentIndex.modelKey) != nil ? .documents : .codes
    }

    /// What it holds.
    public var kind: IndexKind {
        switch self {
        case .documents: return .documents
        case .vectors: return .vectors
        case .codes: return .codes
        }
    }

    /// The index's directory.
    public var path: String { store.path }
    /// Items in the index (committed state).
    public var count: Int { get throws { try store.count } }
    /// Sizes, bits, model fingerprint and table statistics.
    public func info() throws -> IndexInfo { try store.info() }
    /// The code width.
    public var bits: Int { store.bits }

    /// Removes items by id (all or none); returns how many were there.
    @discardableResult
    public func remove(ids: [String]) throws -> Int { try store.remove(ids: ids) }

    /// The stored code of `id`, or nil when there is no such item.
    public func code(for id: String) throws -> BinaryCode? { try store.code(for: id) }

    /// The stored fields of `id` (as its hits carry them), or nil when there is no such item.
    public func fields(for id: String) throws -> [String: String]? {
        guard let metadata = try store.metadata(for: id) else { return nil }
        switch self {
        case .vectors: return SearchHit.fields(json: VectorIndex.userMetadata(metadata))
        case .documents, .codes: return SearchHit.fields(json: metadata)
        }
    }

    package var store: CodeIndex {
        switch self {
        case .documents(let index): return index.store
        case .vectors(let index): return index.store
        case .codes(let index): return index
        }
    }
}
