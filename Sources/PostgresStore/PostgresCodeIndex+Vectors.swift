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
        guard keepsVectors, !ids.isEmpty else { return [:] }
        return try await run {
            try await withConnection { c in
                var out: [String: [UInt8]] = [:]
                let rows = try await c.query("SELECT id, vector FROM \(unescaped: table) WHERE id = ANY(\(ids)::text[]) AND vector IS NOT NULL", logger: logger)
                for try await (id, buffer) in rows.decode((String, ByteBuffer).self) { out[id] = buffer.getBytes(at: 0, length: buffer.readableBytes) ?? [] }
                return out
            }
        }
    }

    /// The `depth` codes nearest to `query` (exact, ties by id; or through the HNSW graph with
    /// `efSearch`), each with its distance, code and fields: the candidates a vector index rescores.
    public func codeCandidates(_ query: BinaryCode, depth: Int, efSearch: Int? = nil) async throws -> [(hit: SearchHit, code: BinaryCode)] {
        guard query.bits == bits else { throw IndexError.widthMismatch(path: path, indexBits: bits, codeBits: query.bits) }
        if let efSearch { try await checkIterativeGraphSearch(efSearch: efSearch) }
        return try await run {
            try await withTransaction { c in
                if let efSearch { try await setGraphSearch(c, efSearch: efSearch) }
                let order = efSearch == nil ? "ORDER BY d, id COLLATE \"C\"" : "ORDER BY code <~> B'\(query.bitString)'::bit(\(bits))"
                let rows = try await c.query("""
                    SELECT id, code::text, d, fields FROM (SELECT id, code, bit_count(code # \(query.bitString)::bit(\(unescaped: String(bits))))::bigint AS d,
                           COALESCE(fields::text, '') AS fields FROM \(unescaped: table) \(unescaped: order) LIMIT \(unescaped: String(depth))) AS t
                    """, logger: logger)
                var out: [(hit: SearchHit, code: BinaryCode)] = []
                for try await (id, text, d, json) in rows.decode((String, String, Int, String).self) {
                    out.append((SearchHit(id: id, distance: d, fields: SearchHit.fields(json: Array(json.utf8))), try BinaryCode(bitString: text)))
                }
                return efSearch == nil ? out : out.sorted { ($0.hit.distance, $0.hit.id) < ($1.hit.distance, $1.hit.id) }
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
