import Foundation
import Hummingbird
import PostgresStore
import TwentyQ
import TwentyQPostgres

// Search of an index in PostgreSQL (`serve --postgres`): by "code" or "like", the k nearest
// (exact in SQL, or through the HNSW graph with "ef_search") or within a radius, and batches of
// codes; an index of text documents also by "text" and batches of texts, ranked as an LMDB
// index ranks them (`PostgresCodeIndex.rank`). Vectors need an LMDB index.
extension Routes {
    func search(_ body: SearchRequest, in index: PostgresCodeIndex) async throws -> Response {
        let modes = [body.text != nil, body.vector != nil, body.code != nil, body.like != nil, body.queries != nil].filter { $0 }.count
        guard modes == 1 else { throw APIError.badRequest("give exactly one of \(index.keepsTerms ? "\"text\", " : "")\"code\", \"like\" or \"queries\" (index '\(index.name)' is in PostgreSQL)" + body.ignoredNote) }
        if body.vector != nil || body.queries?.contains(where: { $0.vector != nil }) == true || index.keepsVectors {
            return try await searchVectors(body, in: index)
        }
        if body.text != nil || body.queries?.contains(where: { $0.text != nil }) == true {
            return try await searchText(body, in: index)
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

    /// "text" (or "queries" of texts) on an index of text documents in PostgreSQL.
    func searchText(_ body: SearchRequest, in store: PostgresCodeIndex) async throws -> Response {
        let index = PostgresDocumentIndex(store: store, model: try await registry.model(of: store))
        if body.explain == true || body.oversample != nil {
            throw APIError.badRequest("\"explain\" and \"oversample\" do not go with text queries on an index in PostgreSQL")
        }
        let k = try checkedK(body)
        let options = try ranking(body)
        if let queries = body.queries {
            guard queries.count <= settings.maxBatch else {
                throw APIError(.contentTooLarge, "batch_too_large", "\(queries.count) queries in one request; the server takes at most \(settings.maxBatch) (--max-batch)")
            }
            guard body.radius == nil else { throw APIError.badRequest("\"radius\" goes with one \"text\" or \"code\"") }
            let texts = try queries.enumerated().map { i, q -> String in
                guard let text = q.text else { throw APIError.badRequest("'queries[\(i)].text' is missing (index '\(store.name)' holds text documents)") }
                return text
            }
            let results = try await index.search(texts: texts, k: k, ranking: options, efSearch: body.ef_search, threads: 1)
            return try JSONBody.response(encoding: BatchSearchResponse(results: zip(queries, results).map {
                QueryResults(query_id: $0.id, results: $1.hits.map(HitJSON.init), lexical_only: $1.lexicalOnly ? true : nil)
            }))
        }
        let text = body.text ?? ""
        if let radius = body.radius {
            guard (0...store.bits).contains(radius) else {
                throw APIError.badRequest("\"radius\" must be between 0 and the code width, \(store.bits) (got \(radius))")
            }
            return try JSONBody.response(encoding: SearchResponse(results: try await index.search(text, radius: radius).map(HitJSON.init), lexical_only: nil))
        }
        let r = try await index.search(text, k: k, ranking: options, efSearch: body.ef_search)
        return try JSONBody.response(encoding: SearchResponse(results: r.hits.map(HitJSON.init), lexical_only: r.lexicalOnly ? true : nil))
    }

    /// "vector" (or "queries" of vectors, or "like") on a vector index in PostgreSQL.
    func searchVectors(_ body: SearchRequest, in store: PostgresCodeIndex) async throws -> Response {
        let index = try await registry.vectors(of: store)
        if body.explain == true || body.radius != nil || body.rescore.map({ $0 != "none" }) == true {
            throw APIError.badRequest("a vector index in PostgreSQL takes \"vector\", \"queries\" or \"like\" with \"k\", \"oversample\", \"ef_search\" and \"rescore\": \"none\"")
        }
        let k = try checkedK(body)
        let rescore: Bool? = body.rescore == "none" ? false : nil
        func search(_ vector: [Float]) async throws -> [SearchHit] {
            guard vector.count == index.dimensions else { throw APIError.badRequest("a query vector must have \(index.dimensions) numbers (got \(vector.count))") }
            return try await index.search(vector, k: k, rescore: rescore, oversample: body.oversample ?? 4, efSearch: body.ef_search)
        }
        if let queries = body.queries {
            guard queries.count <= settings.maxBatch else {
                throw APIError(.contentTooLarge, "batch_too_large", "\(queries.count) queries in one request; the server takes at most \(settings.maxBatch) (--max-batch)")
            }
            var results: [QueryResults] = []
            for (i, q) in queries.enumerated() {
                guard let vector = q.vector else { throw APIError.badRequest("'queries[\(i)].vector' is missing (index '\(store.name)' holds vectors)") }
                results.append(QueryResults(query_id: q.id, results: try await search(vector).map(HitJSON.init)))
            }
            return try JSONBody.response(encoding: BatchSearchResponse(results: results))
        }
        let query: [Float]
        if let id = body.like {
            guard let stored = try await index.vector(for: id) else {
                if try await store.code(for: id) == nil { throw IndexError.unknownID(id) }
                throw APIError.badRequest("\"like\" needs the stored vector of '\(id)', and index '\(store.name)' keeps codes only")
            }
            query = stored
        } else {
            guard let vector = body.vector else { throw APIError.badRequest("index '\(store.name)' holds vectors: search it by \"vector\" or \"like\"") }
            query = vector
        }
        return try JSONBody.response(encoding: SearchResponse(results: try await search(query).map(HitJSON.init), lexical_only: nil))
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
