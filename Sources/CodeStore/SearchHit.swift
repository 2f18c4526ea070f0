import Foundation

/// One result of a search, the same for every kind of index (`CodeIndex`, and in the TwentyQ
/// library `DocumentIndex` and `VectorIndex`).
///
/// `fields` is the metadata stored with the item, as a typed value: the JSON object's members,
/// strings as they are and any other JSON value (a number, `true`, an array) as its JSON text,
/// so `{"year": 1993}` reads back as `["year": "1993"]`. Metadata that is not a JSON object (raw
/// bytes given to `CodeIndex.add`) gives no fields; `CodeIndex.metadata(for:)` returns the bytes.
public struct SearchHit: Hashable, Sendable {
    /// The item's id.
    public var id: String
    /// Hamming distance between the query's code and the item's.
    public var distance: Int
    /// The ranking score, higher is better, when a stage after the codes scored the hit: fused
    /// or BM25 for text queries (`RankingOptions`), exact cosine or dot product for rescored
    /// vectors, the code score for text queries ranked by codes alone. Nil for plain Hamming
    /// search (`distance` is then the order).
    public var score: Double?
    /// The document's BM25 for the query, when the lexical stage ran.
    public var bm25: Double?
    /// The stored fields (documents: "hash", "snippet" and the document's own fields; vectors
    /// and codes: their metadata's members). Empty when fields were not asked for.
    public var fields: [String: String]

    public init(id: String, distance: Int, score: Double? = nil, bm25: Double? = nil, fields: [String: String] = [:]) {
        self.id = id
        self.distance = distance
        self.score = score
        self.bm25 = bm25
        self.fields = fields
    }

    /// The fields of stored metadata: the members of a JSON object, non-string values as their
    /// JSON text; empty for anything else.
    package static func fields(json bytes: some Collection<UInt8>) -> [String: String] {
        guard bytes.first == UInt8(ascii: "{"),
              let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? [String: Any] else { return [:] }
        var out: [String: String] = [:]
        out.reserveCapacity(object.count)
        for (key, value) in object {
            if let s = value as? String {
                out[key] = s
            } else if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]) {
                out[key] = String(decoding: data, as: UTF8.self)
            }
        }
        return out
    }
}

/// The name of `CodeIndex`'s hit before every index returned `SearchHit`.
@available(*, deprecated, renamed: "SearchHit")
public typealias IndexHit = SearchHit
