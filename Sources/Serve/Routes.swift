import Foundation
import Hummingbird
import TwentyQ

/// Every route the server answers, as "METHOD /path/{parameter}" (the router's own list; a
/// test holds /openapi.json to it).
package func serveRouteList() -> [String] {
    let router = Router()
    Routes(settings: ServeSettings(dataDirectory: "/"), registry: IndexRegistry(directory: "/"), metricsText: { [] }).add(to: router)
    return router.routes.map { route in
        "\(route.method.rawValue) " + "\(route.path)".split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? "{" + $0.dropFirst() + "}" : String($0) }.joined(separator: "/")
    }.sorted()
}

/// The routes: `/v1` (indexes, documents, search), `/healthz`, `/metrics`, `/openapi.json`
/// and the search page at `/`. Each handler checks access, reads the request, calls the
/// TwentyQ library (as the CLI does) and writes JSON; nothing else happens here.
struct Routes: Sendable {
    let settings: ServeSettings
    let registry: IndexRegistry
    let metricsText: @Sendable () -> [UInt8]

    func add(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in try Self.resource("page.html", type: "text/html; charset=utf-8") }
        router.get("/openapi.json") { _, _ in try Self.resource("openapi.json", type: "application/json") }
        router.get("/healthz") { _, _ in JSONBody.response(["status": "ok"]) }
        router.get("/metrics") { request, _ in
            try authorize(request, index: nil, write: false)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metricsText())))
        }
        router.get("/v1/indexes") { request, _ in
            try authorize(request, index: nil, write: false)
            return try await handleAsync {
                var indexes: [[String: Any]] = []
                for resolved in try await registry.all() { indexes.append(try await summary(resolved)) }
                return JSONBody.response(["indexes": indexes])
            }
        }
        router.get("/v1/indexes/:name") { request, context in
            let name = try parameter("name", context)
            try authorize(request, index: name, write: false)
            return try await handleAsync { JSONBody.response(try await info(registry.resolve(name))) }
        }
        router.put("/v1/indexes/:name") { request, context in
            let name = try parameter("name", context)
            try authorize(request, index: name, write: true)
            let body = try await JSONBody.decode(CreateIndexRequest.self, from: request, limit: settings.maxBodyBytes)
            return try await handleAsync {
                JSONBody.response(try await info(createIndex(name, body)), status: .created)
            }
        }
        router.delete("/v1/indexes/:name") { request, context in
            let name = try parameter("name", context)
            try authorize(request, index: name, write: true)
            return try await handleAsync {
                try await registry.delete(name)
                return JSONBody.response(["deleted": name])
            }
        }
        addDocumentRoutes(to: router)
        addSearchRoute(to: router)
    }

    // MARK: Access

    /// Checks the request's bearer token (when the server has tokens) for reading, or writing,
    /// `index` (nil: no particular index).
    /// - Throws: 401 without a known token, 403 when the token may not do this.
    func authorize(_ request: Request, index: String?, write: Bool) throws {
        guard let tokens = settings.tokens else { return }
        guard let grant = tokens.grant(authorization: request.headers[.authorization]) else {
            throw APIError(.unauthorized, "unauthorized", "a bearer token is needed: send 'Authorization: Bearer TOKEN' with a token from the server's --tokens file")
        }
        if let index, let allowed = grant.indexes, !allowed.contains(index) {
            throw APIError(.forbidden, "forbidden", "this token does not cover the index '\(index)'")
        }
        if write && !grant.write {
            throw APIError(.forbidden, "forbidden", "this token may read, not write: use a token with write access")
        }
    }

    // MARK: Helpers

    func parameter(_ name: String, _ context: BasicRequestContext) throws -> String {
        guard let value = context.parameters.get(name) else { throw APIError.badRequest("the path lacks its \(name)") }
        return value.removingPercentEncoding ?? value
    }

    /// Runs `body`, answering any error as the API's JSON error.
    func handle(_ body: () throws -> Response) throws -> Response {
        do { return try body() } catch { throw APIError.from(error, dataDirectory: settings.dataDirectory ?? "/") }
    }

    func handleAsync(_ body: () async throws -> Response) async throws -> Response {
        do { return try await body() } catch { throw APIError.from(error, dataDirectory: settings.dataDirectory ?? "/") }
    }

    static func resource(_ name: String, type: String) throws -> Response {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil), let data = try? Data(contentsOf: url) else {
            throw APIError(.internalServerError, "internal", "the server's resource \(name) is missing from its bundle: reinstall twentyq")
        }
        return Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Indexes

    func summary(_ served: ServedIndex) throws -> [String: Any] {
        ["name": served.name, "kind": Self.kindName(served.index.kind), "count": try served.index.count, "bits": served.index.bits, "store": "lmdb"]
    }

    func summary(_ resolved: IndexRegistry.Resolved) async throws -> [String: Any] {
        switch resolved {
        case .local(let served): return try summary(served)
        case .postgres(let index):
            return ["name": index.name, "kind": index.keepsTerms ? "documents" : index.keepsVectors ? "vectors" : "codes", "count": try await index.count(),
                    "bits": index.bits, "store": "postgres"]
        }
    }

    func info(_ resolved: IndexRegistry.Resolved) async throws -> [String: Any] {
        switch resolved {
        case .local(let served): return try info(served)
        case .postgres(let index):
            var out = try await summary(resolved)
            out["model_fingerprint"] = index.modelFingerprint
            out["table_bytes"] = try await index.tableBytes()
            out["graph"] = try await index.hasGraph()
            return out
        }
    }

    func info(_ served: ServedIndex) throws -> [String: Any] {
        let info = try served.index.info()
        var out = try summary(served)
        out["model_fingerprint"] = info.modelFingerprint
        out["file_bytes"] = info.fileBytes
        out["code_bytes"] = info.codeBytes
        if case .vectors(let index) = served.index {
            out["dimensions"] = index.dimensions
            out["storage"] = index.settings.storage?.rawValue ?? "none"
        }
        return out
    }

    static func kindName(_ kind: IndexKind) -> String {
        switch kind {
        case .documents: return "documents"
        case .vectors: return "vectors"
        case .codes: return "codes"
        }
    }

    func createIndex(_ name: String, _ body: CreateIndexRequest) async throws -> IndexRegistry.Resolved {
        let store = body.store ?? (settings.dataDirectory == nil ? "postgres" : "lmdb")
        switch store {
        case "postgres":
            if body.kind == "documents" {
                let model = try body.model.map { try ModelFile.read(try modelPath($0)) } ?? DefaultModel.load()
                return .postgres(try await registry.createInPostgres(name, bits: model.bits, model: model))
            }
            if body.kind == "vectors" {
                let (model, storage) = try vectorSettings(body)
                return .postgres(try await registry.createVectorsInPostgres(name, model: model, storage: storage))
            }
            guard body.kind == "codes", let bits = body.bits else {
                throw APIError.badRequest("\"kind\" must be \"documents\", \"vectors\" or \"codes\" (with \"bits\": N) (got '\(body.kind)')")
            }
            return .postgres(try await registry.createInPostgres(name, bits: bits))
        case "lmdb":
            if let pool = registry.pool, try await pool.indexNames().contains(name) {
                throw APIError.alreadyExists(name, where: " in PostgreSQL")
            }
            return .local(try createLocal(name, body))
        default:
            throw APIError.badRequest("\"store\" must be \"lmdb\" or \"postgres\" (got '\(store)')")
        }
    }

    /// The file of the model `model` in DATA/models.
    func modelPath(_ model: String) throws -> String {
        try IndexRegistry.checkName(model)
        guard let data = settings.dataDirectory else {
            throw APIError.badRequest("this server has no data directory for models (start it with --data DIR and put the model at DIR/models/\(model).tqm), or leave out \"model\" for the shipped one")
        }
        let path = data + "/models/" + model + ".tqm"
        guard FileManager.default.fileExists(atPath: path) else {
            throw APIError.badRequest("no model '\(model)': put its file at DATA/models/\(model).tqm on the server")
        }
        return path
    }

    /// A new vector index's model (from DATA/models) and storage, as the request names them.
    func vectorSettings(_ body: CreateIndexRequest) throws -> (VectorEncoderModel, VectorStorage?) {
        guard let modelName = body.model else {
            throw APIError.badRequest("a vector index needs \"model\": the name of a vector model in DATA/models (train one with `twentyq train --vectors`)")
        }
        let model = try ModelFile.readVectors(try modelPath(modelName))
        let storage = try body.storage.map { raw -> VectorStorage in
            guard let storage = VectorStorage(rawValue: raw) else {
                throw APIError.badRequest("\"storage\" must be int8, float16 or float32 (got '\(raw)')")
            }
            return storage
        }
        return (model, storage)
    }

    func createLocal(_ name: String, _ body: CreateIndexRequest) throws -> ServedIndex {
        switch body.kind {
        case "documents":
            let model = try body.model.map { try ModelFile.read(try modelPath($0)) }
            return try registry.create(name) { .documents(try DocumentIndex.create(at: $0, model: model)) }
        case "vectors":
            let (model, storage) = try vectorSettings(body)
            return try registry.create(name) { .vectors(try VectorIndex.create(at: $0, model: model, storage: storage)) }
        case "codes":
            guard let bits = body.bits else { throw APIError.badRequest("an index of codes needs \"bits\", their width (1 to 4096)") }
            return try registry.create(name) { .codes(try CodeIndex.create(at: $0, bits: bits)) }
        default:
            throw APIError.badRequest("\"kind\" must be \"documents\", \"vectors\" or \"codes\" (got '\(body.kind)')")
        }
    }
}
