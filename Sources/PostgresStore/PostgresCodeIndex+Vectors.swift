import BinaryCodes
import CodeStore
import Foundation
import PostgresNIO

/// A vector index in PostgreSQL (layout 3): codes from a vector model, and each item's vector
/// for rescoring in `vector bytea` (the bytes of its storage format: int8, float16 or float32, as
/// an LMDB vector index stores them), with the model's file and the storage's name in the index's
/// row of `tq_indexes` (`model`, `vector_storage`; NULL: codes only).
extension PostgresCodeIndex {
    func createVectorTables(_ c: PostgresConnection, modelFile: [UInt8], storage: String?) async throws {
        try await c.query("""
            ALTER TABLE tq_indexes ADD COLUMN IF NOT EXISTS model bytea, ADD COLUMN IF NOT EXISTS vector_storage text
            """, logger: logger)
        try await c.query("UPDATE tq_indexes SET model = \(ByteBuffer(bytes: modelFile)), vector_storage = \(storage) WHERE name = \(name)", logger: logger)
        try await c.query("ALTER TABLE \(unescaped: table) ADD COLUMN vector bytea", logger: logger)
    }

    /// How a vector index stores its vectors (the storage's name), or nil for codes only (and for
    /// an index that is not a vector index).
    public func vectorStorage() async throws -> String? {
        guard keepsVectors else { return nil }
        return try await singleValue("SELECT vector_storage FROM tq_indexes WHERE name = \(name)", as: String?.self) ?? nil
    }

    /// Adds or replaces `entries` of a vector index with their stored vectors' bytes (`vectors`,
    /// one per entry; empty when the index keeps codes only), in one transaction, as `add`.
    @discardableResult
    public func addVectors(_ entries: [IndexEntry], vectors: [[UInt8]]) async throws -> AddSummary {
        precondition(entries.count == vectors.count)
        guard keepsVectors else { throw IndexError.invalidSetting("\(path) is not a vector index: add its items with add(_:)") }
        let (ids, codes, fields) = try checkedRows(entries)
        if entries.isEmpty { return AddSummary() }
        let hex = vectors.map { $0.isEmpty ? "" : Self.hex($0) }
        return try await run {
            try await withTransaction { c in
                let rows = try await c.query("""
                    INSERT INTO \(unescaped: table) (id, code, fields, vector)
                    SELECT u.id, u.code::bit(\(unescaped: String(bits))), NULLIF(u.fields, '')::jsonb, decode(NULLIF(u.vector, ''), 'hex')
                    FROM unnest(\(ids)::text[], \(codes)::text[], \(fields)::text[], \(hex)::text[]) AS u(id, code, fields, vector)
                    ON CONFLICT (id) DO UPDATE SET code = EXCLUDED.code, fields = EXCLUDED.fields, vector = EXCLUDED.vector
                    WHERE \(unescaped: table).code IS DISTINCT FROM EXCLUDED.code OR \(unescaped: table).fields IS DISTINCT FROM EXCLUDED.fields
                       OR \(unescaped: table).vector IS DISTINCT FROM EXCLUDED.vector
                    RETURNING (xmax = 0)
                    """, logger: logger)
                return try await Self.summary(rows, of: entries.count)
            }
        }
    }

    /// The stored vectors' bytes of those of `ids` that have one.
    public func storedVectors(_ ids: [String]) async throws -> [String: [UInt8]] {
        guard keepsVectors else { return [:] }
        return try await run { try await withConnection { c in try await bytes(of: "vector", ids: ids, c) } }
    }

    /// The `depth` codes nearest to `query` (exact, ties by id; or through the HNSW graph with
    /// `efSearch`), each with its distance, code and fields: the candidates a vector index rescores.
    public func codeCandidates(_ query: BinaryCode, depth: Int, efSearch: Int? = nil) async throws -> [(hit: SearchHit, code: BinaryCode)] {
        guard query.bits == bits else { throw IndexError.widthMismatch(path: path, indexBits: bits, codeBits: query.bits) }
        if let efSearch { try await checkIterativeGraphSearch(efSearch: efSearch) }
        return try await run {
            try await withTransaction { c in
                if let efSearch { try await setGraphSearch(c, efSearch: efSearch) }
                var rows = try await codeRows(c, query: query, sql: nearest(query, depth: depth, graph: efSearch != nil))
                if efSearch != nil { rows.sort { ($0.distance, $0.id) < ($1.distance, $1.id) } }
                let fields = try await fieldsOf(c, ids: rows.map(\.id))
                return rows.map { (SearchHit(id: $0.id, distance: $0.distance, fields: fields[$0.id] ?? [:]), $0.code) }
            }
        }
    }

    /// Up to `limit` items of a vector index in id order after `id` (nil: from the first), each
    /// with its stored vector's bytes (empty for none): the pages `twentyq copy` reads.
    public func vectorEntries(after id: String?, limit: Int) async throws -> [(entry: IndexEntry, vectorBytes: [UInt8])] {
        let page = try await entries(after: id, limit: limit)
        let stored = try await storedVectors(page.map(\.id))
        return page.map { ($0, stored[$0.id] ?? []) }
    }
}
