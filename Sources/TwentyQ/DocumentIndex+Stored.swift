import BinaryCodes
import CodeStore
import Foundation

/// A document as the index keeps it: id, code and fields. The text itself is not stored; its
/// snippet (`fields["snippet"]`), content hash and the caller's fields are.
public struct StoredDocument: Sendable {
    /// The document's id.
    public var id: String
    /// Its code, from the index's model.
    public var code: BinaryCode
    /// Its stored fields: "hash", "snippet" and the caller's own.
    public var fields: [String: String]
}

extension DocumentIndex {
    /// Every stored document in slot order (insertion order until removals move documents),
    /// from one snapshot, until `body` returns false. Export and pruning go through here.
    /// - Throws: `IndexError.corrupt` when a record does not match its checksum.
    public func forEachDocument(_ body: (StoredDocument) throws -> Bool) throws {
        try store.forEachRecord { id, metadata, code in
            try body(StoredDocument(id: id, code: code, fields: SearchHit.fields(json: metadata)))
        }
    }

    /// The stored code of document `id`, nil when there is none.
    public func code(for id: String) throws -> BinaryCode? { try store.code(for: id) }

    /// The stored fields of each of `ids` (nil where there is no such document), read from one
    /// snapshot.
    public func fields(for ids: [String]) throws -> [[String: String]?] {
        try store.metadata(for: ids).map { $0.map { SearchHit.fields(json: $0) } }
    }
}
