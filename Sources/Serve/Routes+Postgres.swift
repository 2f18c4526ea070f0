import Foundation
import Hummingbird
import PostgresStore
import TwentyQ

// Search of an index of codes in PostgreSQL (`serve --postgres`): by "code" or "like", the k
// nearest (exact in SQL, or through the HNSW graph with "ef_search") or within a radius, and
// batches of codes. Text and vectors need an LMDB index, which keeps the model and the terms.
extension Routes {
    func search(_ body: SearchRequest, in index: PostgresCodeIndex) async throws -> Response {
        let modes = [body.text != nil, body.vector != nil, body.code != nil, body.like != nil, body.queries != nil].filter { $0 }.count
        guard modes == 1 else { throw APIError.badRequest("give exactly one of \"code\", \"like\" or \"queries\" (index '\(index.name)' holds codes in PostgreSQL)") }
        guard body.text == nil, body.vector == nil else {
            throw APIError.badRequest("index '\(index.name)' holds codes in PostgreSQL: search it by \"code\", \"like\" or \"queries\" of codes (text and vectors need an LMDB index, which keeps the model and the terms)")
        }
        if body.rescore != nil || body.candidates != nil || body.feedback != nil || body.explain == true || body.oversample != nil {
            throw APIError.badRequest("\"rescore\", \"candidates\", \"feedback\", \"explain\" and \"oversample\" go with text or vector queries; index '\(index.name)' holds codes in PostgreSQL")
        }
        let k = try checkedK(body)
        if let ef = body.ef_search, !(1...1_000).contains(ef) {
            throw APIError.badRequest("\"ef_search\" must be 1 to 1,000 (got \(ef))")
        }
        if let radius = body.radius {
            guard (0...index.bits).contains(radius) else {
                throw APIError.badRequest("\"radius\" must be between 0 and the code width, \(index.bits) (got \(radius))")
            }
            guard body.ef_search == nil, body.queries == nil else { throw APIError.badRequest("\"radius\" goes with one \"code\" or \"like\", searched exactly (no \"ef_search\")") }
        }
        if let queries = body.queries {
            guard queries.count <= settings.maxBatch else {
                throw APIError(.contentTooLarge, "batch_too_large", "\(queries.count) queries in one request; the server takes at most \(settings.maxBatch) (--max-batch)")
            }
            var matrix = try CodeMatrix(bits: index.bits)
            for (i, q) in queries.enumerated() {
                guard let hex = q.code else { throw APIError.badRequest("'queries[\(i)].code' is missing (index '\(index.name)' holds codes)") }
                try matrix.append(try code(hex, bits: index.bits, field: "queries[\(i)].code"))
            }
            let results = try await nearest(index, matrix, k: k, efSearch: body.ef_search)
            return try JSONBody.response(encoding: BatchSearchResponse(results: zip(queries, results).map {
                QueryResults(query_id: $0.id, results: $1.map(HitJSON.init))
            }))
        }
        let query: BinaryCode
        if let hex = body.code {
            query = try code(hex, bits: index.bits, field: "code")
        } else {
            guard let id = body.like, let stored = try await index.code(for: id) else { throw IndexError.unknownID(body.like ?? "") }
            query = stored
        }
        let hits: [SearchHit]
        if let radius = body.radius {
            hits = try await index.within(radius: radius, of: query)
        } else {
            hits = try await nearest(index, try CodeMatrix(bits: index.bits, words: query.words), k: k, efSearch: body.ef_search)[0]
        }
        return try JSONBody.response(encoding: SearchResponse(results: hits.map(HitJSON.init), lexical_only: nil))
    }

    func nearest(_ index: PostgresCodeIndex, _ queries: CodeMatrix, k: Int, efSearch: Int?) async throws -> [[SearchHit]] {
        if let efSearch { return try await index.approximateNearest(to: queries, k: k, efSearch: efSearch) }
        return try await index.nearest(to: queries, k: k)
    }

    func code(_ hex: String, bits: Int, field: String) throws -> BinaryCode {
        do { return try BinaryCode(hex: hex, bits: bits) } catch {
            throw APIError.badRequest("'\(field)': \(error) (the index holds \(bits)-bit codes: \((bits + 3) / 4) hex digits)")
        }
    }
}
