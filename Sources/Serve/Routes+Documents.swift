import Foundation
import Hummingbird
import PostgresStore
import TwentyQ
import TwentyQPostgres

// Adding, reading and removing items: documents, vectors or codes, as the index holds.
extension Routes {
    func addDocumentRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/indexes/:name/documents") { request, context in
            let name = try parameter("name", context)
            try authorize(request, index: name, write: true)
            let body = try await JSONBody.decode(AddRequest.self, from: request, limit: settings.maxBodyBytes)
            return try await handleAsync {
                let summary: AddSummary
                switch try await registry.resolve(name) {
                case .local(let served): summary = try await add(body, to: served)
                case .postgres(let index): summary = try await add(body, to: index)
                }
                return JSONBody.response(["added": summary.added, "replaced": summary.replaced, "unchanged": summary.unchanged])
            }
        }
        router.get("/v1/indexes/:name/documents/:id") { request, context in
            let name = try parameter("name", context)
            try authorize(request, index: name, write: false)
            let id = try parameter("id", context)
            return try await handleAsync {
                let index: AnyIndex
                switch try await registry.resolve(name) {
                case .local(let served): index = served.index
                case .postgres(let index):
                    guard let entry = try await index.entry(for: id) else { throw IndexError.unknownID(id) }
                    return JSONBody.response(["id": id, "code": entry.code.hex, "fields": SearchHit.fields(json: entry.metadata)] as [String: Any])
                }
                guard let code = try index.code(for: id), let fields = try index.fields(for: id) else { throw IndexError.unknownID(id) }
                var out: [String: Any] = ["id": id, "code": code.hex, "fields": fields]
                if case .vectors(let vectors) = index, let vector = try vectors.vector(for: id) { out["vector"] = vector }
                return JSONBody.response(out)
            }
        }
        router.delete("/v1/indexes/:name/documents/:id") { request, context in
            let name = try parameter("name", context)
            try authorize(request, index: name, write: true)
            let id = try parameter("id", context)
            return try await handleAsync {
                let served: ServedIndex
                switch try await registry.resolve(name) {
                case .local(let local): served = local
                case .postgres(let index):
                    try await index.remove(ids: [id])
                    return JSONBody.response(["removed": id])
                }
                let removed = try await served.writer.perform { try served.index.remove(ids: [id]) }
                guard removed == 1 else { throw IndexError.unknownID(id) }
                return JSONBody.response(["removed": id])
            }
        }
    }

    /// The request's codes (or, for an index of text documents, documents) added to an index in
    /// PostgreSQL in one transaction.
    func add(_ body: AddRequest, to index: PostgresCodeIndex) async throws -> AddSummary {
        if index.keepsVectors {
            guard body.codes == nil, body.documents == nil, let items = body.vectors else {
                throw APIError.badRequest("index '\(index.name)' holds vectors in PostgreSQL: send {\"vectors\": [{\"id\", \"vector\", \"fields\"}]}")
            }
            guard items.count <= settings.maxBatch else {
                throw APIError(.contentTooLarge, "batch_too_large", "\(items.count) items in one request; the server takes at most \(settings.maxBatch) (--max-batch): send them in several requests")
            }
            let vectors = try await registry.vectors(of: index)
            for (i, item) in items.enumerated() where item.vector.count != vectors.dimensions {
                throw APIError.badRequest("'vectors[\(i)].vector' has \(item.vector.count) numbers; the index takes \(vectors.dimensions)")
            }
            return try await vectors.add(ids: items.map(\.id), vectors: items.map(\.vector), fields: items.map { $0.fields ?? [:] })
        }
        if index.keepsTerms {
            guard body.codes == nil, body.vectors == nil, let items = body.documents else {
                throw APIError.badRequest("index '\(index.name)' holds text documents in PostgreSQL: send {\"documents\": [{\"id\", \"text\", \"fields\"}]}")
            }
            guard items.count <= settings.maxBatch else {
                throw APIError(.contentTooLarge, "batch_too_large", "\(items.count) items in one request; the server takes at most \(settings.maxBatch) (--max-batch): send them in several requests")
            }
            let documents = PostgresDocumentIndex(store: index, model: try await registry.model(of: index))
            return try await documents.add(items.map { Document(id: $0.id, text: $0.text, fields: $0.fields ?? [:]) }, threads: 1)
        }
        guard body.documents == nil, body.vectors == nil, let items = body.codes else {
            throw APIError.badRequest("index '\(index.name)' holds codes in PostgreSQL: send {\"codes\": [{\"id\", \"code\", \"fields\"}]}")
        }
        guard items.count <= settings.maxBatch else {
            throw APIError(.contentTooLarge, "batch_too_large", "\(items.count) items in one request; the server takes at most \(settings.maxBatch) (--max-batch): send them in several requests")
        }
        return try await index.add(try codeEntries(items, bits: index.bits))
    }

    /// Code items as index entries (fields as a JSON object).
    func codeEntries(_ items: [CodeItem], bits: Int) throws -> [IndexEntry] {
        try items.enumerated().map { i, item -> IndexEntry in
            let code: BinaryCode
            do { code = try BinaryCode(hex: item.code, bits: bits) } catch {
                throw APIError.badRequest("'codes[\(i)].code': \(error) (the index holds \(bits)-bit codes: \((bits + 3) / 4) hex digits)")
            }
            let metadata = (item.fields ?? [:]).isEmpty ? [] : Array(JSONText.object(item.fields!).utf8)
            return IndexEntry(id: item.id, code: code, metadata: metadata)
        }
    }

    /// The request's items added to the index in one transaction, through its writer.
    func add(_ body: AddRequest, to served: ServedIndex) async throws -> AddSummary {
        let given = [body.documents?.count, body.vectors?.count, body.codes?.count].compactMap { $0 }
        let wanted: String
        switch served.index {
        case .documents: wanted = "documents"
        case .vectors: wanted = "vectors"
        case .codes: wanted = "codes"
        }
        guard given.count == 1 else {
            throw APIError.badRequest("send one array: {\"\(wanted)\": [...]} (index '\(served.name)' holds \(wanted))")
        }
        guard given[0] <= settings.maxBatch else {
            throw APIError(.contentTooLarge, "batch_too_large", "\(given[0]) items in one request; the server takes at most \(settings.maxBatch) (--max-batch): send them in several requests")
        }
        switch served.index {
        case .documents(let index):
            guard let items = body.documents else { throw APIError.badRequest("index '\(served.name)' holds text documents: send {\"documents\": [{\"id\", \"text\", \"fields\"}]}") }
            let documents = items.map { Document(id: $0.id, text: $0.text, fields: $0.fields ?? [:]) }
            return try await served.writer.perform { try index.add(documents) }
        case .vectors(let index):
            guard let items = body.vectors else { throw APIError.badRequest("index '\(served.name)' holds vectors: send {\"vectors\": [{\"id\", \"vector\", \"fields\"}]}") }
            for (i, item) in items.enumerated() where item.vector.count != index.dimensions {
                throw APIError.badRequest("'vectors[\(i)].vector' has \(item.vector.count) numbers; the index takes \(index.dimensions)")
            }
            let (ids, vectors, fields) = (items.map(\.id), items.map(\.vector), items.map { $0.fields ?? [:] })
            return try await served.writer.perform { try index.add(ids: ids, vectors: vectors, fields: fields) }
        case .codes(let index):
            guard let items = body.codes else { throw APIError.badRequest("index '\(served.name)' holds codes: send {\"codes\": [{\"id\", \"code\", \"fields\"}]}") }
            let entries = try codeEntries(items, bits: index.bits)
            return try await served.writer.perform { try index.add(entries) }
        }
    }
}
