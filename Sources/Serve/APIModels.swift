import Foundation
import TwentyQ

// The JSON shapes of the API (docs/SERVE.md, /openapi.json). Field names are snake_case on
// the wire; unknown fields are ignored (a newer client's field does not break an older server),
// and a search whose body names no query says which fields it ignored (`NotesIgnoredFields`).

/// A request body that keeps its JSON, to name the top-level fields it ignored in its errors
/// (read then, not on every request).
protocol NotesIgnoredFields: Decodable {
    /// The top-level fields the body reads.
    static var fieldNames: Set<String> { get }
    /// The body as received (`JSONBody.decode` sets it).
    var json: Data { get set }
}

extension NotesIgnoredFields {
    /// The top-level fields of the body it does not read, sorted.
    var ignored: [String] {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { return [] }
        return object.keys.filter { !Self.fieldNames.contains($0) }.sorted()
    }

    /// "; "query" is no field of this request and was ignored", or "" when none was.
    var ignoredNote: String {
        let ignored = ignored
        guard !ignored.isEmpty else { return "" }
        let names = ignored.map { "\"\($0)\"" }.joined(separator: ", ")
        return ignored.count == 1 ? "; \(names) is no field of this request and was ignored" : "; \(names) are no fields of this request and were ignored"
    }
}

struct CreateIndexRequest: Decodable {
    /// "documents", "vectors" or "codes".
    var kind: String
    /// Documents and vectors: the name of a model file in DATA/models (NAME.tqm); documents
    /// default to the shipped model, vectors need one.
    var model: String?
    /// Codes: the width, 1 to 4096.
    var bits: Int?
    /// Vectors: "int8", "float16" or "float32" to keep the vectors for rescoring; none: codes only.
    var storage: String?
    /// Where the index lives: "lmdb" (the data directory; the default when the server has one)
    /// or "postgres" (the server's PostgreSQL database: documents, vectors or codes).
    var store: String?
}

struct DocumentItem: Decodable {
    var id: String
    var text: String
    var fields: [String: String]?
}

struct VectorItem: Decodable {
    var id: String
    var vector: [Float]
    var fields: [String: String]?
}

struct CodeItem: Decodable {
    var id: String
    /// Hex, as `twentyq export` writes codes.
    var code: String
    var fields: [String: String]?
}

/// One of the three arrays, as the index's kind asks.
struct AddRequest: Decodable {
    var documents: [DocumentItem]?
    var vectors: [VectorItem]?
    var codes: [CodeItem]?
}

struct QueryItem: Decodable {
    var id: String
    var text: String?
    var vector: [Float]?
    var code: String?
}

/// Exactly one of `text`, `vector`, `code`, `like` or `queries`.
struct SearchRequest: Decodable {
    var text: String?
    var vector: [Float]?
    var code: String?
    var like: String?
    var queries: [QueryItem]?
    var k: Int?
    var radius: Int?
    /// Text queries: "bm25" (default), "fused" or "none"; vector queries: "none" turns off
    /// rescoring with the stored vectors.
    var rescore: String?
    /// Text queries: documents the codes choose for the lexical stage.
    var candidates: Int?
    /// Text queries: documents of the first BM25 round that expand a typed query (RM3); 0 off.
    var feedback: Int?
    /// Vector queries: candidates rescored per result.
    var oversample: Int?
    /// Code, like or text on an index in PostgreSQL with an HNSW graph: search approximately
    /// through the graph keeping this many candidates (pgvector's hnsw.ef_search, 1 to 1,000;
    /// for text, the codes' shortlist comes from the graph).
    var ef_search: Int?
    /// Text or like on a document index: per hit, the questions (bits) on which it and the
    /// query agree and the first ones on which they differ (`twentyq search --explain`).
    var explain: Bool?
    /// The body as received, for `ignored`.
    var json = Data()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case text, vector, code, like, queries, k, radius, rescore, candidates, feedback, oversample, ef_search, explain
    }
}

extension SearchRequest: NotesIgnoredFields {
    static let fieldNames = Set(CodingKeys.allCases.map(\.rawValue))
}

struct HitJSON: Encodable {
    var id: String
    var distance: Int
    var score: Double?
    var bm25: Double?
    var fields: [String: String]
    var explain: ExplainJSON?

    init(_ hit: SearchHit) {
        id = hit.id
        distance = hit.distance
        score = hit.score
        bm25 = hit.bm25
        fields = hit.fields
    }
}

struct ExplainJSON: Encodable {
    struct Bit: Encodable {
        var bit: Int
        /// The terms that push the bit's answer to yes most, and to no.
        var yes: [String]
        var no: [String]
        var query: Bool
        var hit: Bool
    }
    var agree: Int
    var differ: Int
    /// The first (up to 5) bits on which they differ.
    var bits: [Bit]
}

struct SearchResponse: Encodable {
    var results: [HitJSON]
    /// Text queries: no word of the query is known to the model, so the hits are the documents
    /// sharing a word with it, by BM25 (`twentyq search` warns the same way).
    var lexical_only: Bool?
}

struct QueryResults: Encodable {
    var query_id: String
    var results: [HitJSON]
    var lexical_only: Bool?
}

struct BatchSearchResponse: Encodable {
    var results: [QueryResults]
}
