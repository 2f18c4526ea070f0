import Foundation
import Hummingbird
import TwentyQ

// POST /v1/indexes/{name}/search: one query (text, vector, code or like) or a batch.
extension Routes {
    func addSearchRoute(to router: Router<BasicRequestContext>) {
        router.post("/v1/indexes/:name/search") { request, context in
            let name = try parameter("name", context)
            try authorize(request, index: name, write: false)
            let body = try await JSONBody.decode(SearchRequest.self, from: request, limit: settings.maxBodyBytes)
            return try await handleAsync {
                switch try await registry.resolve(name) {
                case .local(let served): return try search(body, in: served)
                case .postgres(let index): return try await search(body, in: index)
                }
            }
        }
    }

    func search(_ body: SearchRequest, in served: ServedIndex) throws -> Response {
        let modes = [body.text != nil, body.vector != nil, body.code != nil, body.like != nil, body.queries != nil].filter { $0 }.count
        guard modes == 1 else { throw APIError.badRequest("give exactly one of \"text\", \"vector\", \"code\", \"like\" or \"queries\"" + body.ignoredNote) }
        let k = try checkedK(body)
        if body.ef_search != nil {
            throw APIError.badRequest("\"ef_search\" goes with an index in PostgreSQL that has an HNSW graph; index '\(served.name)' is searched exactly")
        }
        if let radius = body.radius, !(0...served.index.bits).contains(radius) {
            throw APIError.badRequest("\"radius\" must be between 0 and the code width, \(served.index.bits) (got \(radius))")
        }
        if body.radius != nil && body.text == nil && body.code == nil {
            throw APIError.badRequest("\"radius\" goes with \"text\" or \"code\"")
        }
        if let queries = body.queries {
            guard queries.count <= settings.maxBatch else {
                throw APIError(.contentTooLarge, "batch_too_large", "\(queries.count) queries in one request; the server takes at most \(settings.maxBatch) (--max-batch)")
            }
            return try JSONBody.response(encoding: BatchSearchResponse(results: try batch(queries, k: k, body, served)))
        }
        let (hits, lexicalOnly) = try single(body, k: k, served)
        var results = hits.map(HitJSON.init)
        if body.explain == true { try explain(&results, body, served) }
        return try JSONBody.response(encoding: SearchResponse(results: results, lexical_only: lexicalOnly ? true : nil))
    }

    /// The request's k, checked against the server's --max-k.
    func checkedK(_ body: SearchRequest) throws -> Int {
        let k = body.k ?? 10
        guard (1...settings.maxK).contains(k) else {
            throw APIError.badRequest("\"k\" must be between 1 and \(settings.maxK) (the server's --max-k), got \(k)")
        }
        return k
    }

    /// Adds to each hit the bits on which it and the query agree and differ.
    func explain(_ results: inout [HitJSON], _ body: SearchRequest, _ served: ServedIndex) throws {
        guard case .documents(let index) = served.index, body.text != nil || body.like != nil else {
            throw APIError.badRequest("\"explain\" goes with \"text\" or \"like\" on an index of documents")
        }
        guard let query = try body.like.map({ try index.code(for: $0) }) ?? body.text.map({ index.model.encode($0) }) else { return }
        // Each hit shows its first five differing bits: only those are explained.
        let codes = try results.map { try index.code(for: $0.id) }
        let differing = codes.map { code in code.map { code in (0..<code.bits).filter { code[bit: $0] != query[bit: $0] } } ?? [] }
        let questions = served.questions(index.model, bits: differing.flatMap { $0.prefix(5) })
        for i in results.indices {
            guard let code = codes[i] else { continue }
            results[i].explain = ExplainJSON(agree: code.bits - differing[i].count, differ: differing[i].count, bits: differing[i].prefix(5).map { b in
                ExplainJSON.Bit(bit: b, yes: questions[b]?.yes.map(\.term) ?? [], no: questions[b]?.no.map(\.term) ?? [], query: query[bit: b], hit: code[bit: b])
            })
        }
    }

    /// The text ranking a request asks for.
    func ranking(_ body: SearchRequest) throws -> RankingOptions {
        var options = RankingOptions()
        if let raw = body.rescore {
            guard let rescoring = Rescoring(rawValue: raw) else {
                throw APIError.badRequest("\"rescore\" must be \"bm25\", \"fused\" or \"none\" (got '\(raw)')")
            }
            options.rescoring = rescoring
        }
        if let candidates = body.candidates {
            guard candidates >= 1 else { throw APIError.badRequest("\"candidates\" must be at least 1 (got \(candidates))") }
            options.shortlist = candidates
        }
        if let feedback = body.feedback {
            guard feedback >= 0 else { throw APIError.badRequest("\"feedback\" must be 0 (off) or a number of documents (got \(feedback))") }
            options.feedback.documents = feedback
        }
        return options
    }

    /// Whether vector queries are rescored: by default when the index stores vectors;
    /// "rescore": "none" turns it off.
    func vectorRescore(_ body: SearchRequest) throws -> Bool? {
        guard let raw = body.rescore else { return nil }
        guard raw == "none" else { throw APIError.badRequest("vector queries take \"rescore\": \"none\" or nothing (rescored by the stored vectors)") }
        return false
    }

    func code(_ hex: String, _ index: AnyIndex, field: String) throws -> BinaryCode {
        try code(hex, bits: index.bits, field: field)
    }

    func single(_ body: SearchRequest, k: Int, _ served: ServedIndex) throws -> ([SearchHit], Bool) {
        let index = served.index
        if let hex = body.code {
            let query = try code(hex, index, field: "code")
            switch index {
            case .codes(let codes):
                if let radius = body.radius { return (try codes.within(radius: radius, of: query), false) }
                return (try codes.nearest(to: CodeMatrix(bits: codes.bits, words: query.words), k: k)[0], false)
            case .documents(let documents):
                guard body.radius == nil else { throw APIError.badRequest("\"radius\" with \"code\" goes to an index of codes; for documents give \"text\"") }
                return (try documents.search(codes: [query], k: k)[0], false)
            case .vectors:
                throw APIError.badRequest("a vector index is searched by \"vector\" (or \"like\")")
            }
        }
        switch index {
        case .documents(let documents):
            if let id = body.like { return (try documents.search(like: id, k: k), false) }
            guard let text = body.text else { throw APIError.badRequest("index '\(served.name)' holds text documents: search it by \"text\", \"like\" or \"code\"") }
            if let radius = body.radius { return (try documents.search(text, radius: radius), false) }
            let result = try documents.search(texts: [text], k: k, ranking: ranking(body), threads: 1)[0]
            return (result.hits, result.lexicalOnly)
        case .vectors(let vectors):
            let query: [Float]
            if let id = body.like {
                guard let stored = try vectors.vector(for: id) else {
                    if try index.code(for: id) == nil { throw IndexError.unknownID(id) }
                    throw APIError.badRequest("\"like\" needs the stored vector of '\(id)', and index '\(served.name)' keeps codes only")
                }
                query = stored
            } else {
                guard let vector = body.vector else { throw APIError.badRequest("index '\(served.name)' holds vectors: search it by \"vector\" or \"like\"") }
                query = vector
            }
            return (try vectors.search(query, k: k, rescore: try vectorRescore(body), oversample: body.oversample ?? 4), false)
        case .codes(let codes):
            guard let id = body.like else { throw APIError.badRequest("index '\(served.name)' holds codes: search it by \"code\" or \"like\"") }
            guard let query = try codes.code(for: id) else { throw IndexError.unknownID(id) }
            return (try codes.nearest(to: CodeMatrix(bits: codes.bits, words: query.words), k: k)[0], false)
        }
    }

    func batch(_ queries: [QueryItem], k: Int, _ body: SearchRequest, _ served: ServedIndex) throws -> [QueryResults] {
        switch served.index {
        case .documents(let documents):
            let texts = try queries.enumerated().map { i, q -> String in
                guard let text = q.text else { throw APIError.badRequest("'queries[\(i)].text' is missing (index '\(served.name)' holds text documents)") }
                return text
            }
            let results = try documents.search(texts: texts, k: k, ranking: ranking(body))
            return zip(queries, results).map { QueryResults(query_id: $0.id, results: $1.hits.map(HitJSON.init), lexical_only: $1.lexicalOnly ? true : nil) }
        case .vectors(let vectors):
            var values: [Float] = []
            for (i, q) in queries.enumerated() {
                guard let vector = q.vector, vector.count == vectors.dimensions else {
                    throw APIError.badRequest("'queries[\(i)].vector' must be \(vectors.dimensions) numbers")
                }
                values += vector
            }
            let results = try vectors.search(VectorSet(dimensions: vectors.dimensions, values: values), k: k,
                                             rescore: try vectorRescore(body), oversample: body.oversample ?? 4)
            return zip(queries, results).map { QueryResults(query_id: $0.id, results: $1.map(HitJSON.init)) }
        case .codes(let codes):
            var matrix = try CodeMatrix(bits: codes.bits)
            for (i, q) in queries.enumerated() {
                guard let hex = q.code else { throw APIError.badRequest("'queries[\(i)].code' is missing (index '\(served.name)' holds codes)") }
                try matrix.append(try code(hex, served.index, field: "queries[\(i)].code"))
            }
            return zip(queries, try codes.nearest(to: matrix, k: k)).map { QueryResults(query_id: $0.id, results: $1.map(HitJSON.init)) }
        }
    }
}
