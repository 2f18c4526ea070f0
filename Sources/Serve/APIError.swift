import Foundation
import Hummingbird
import TwentyQ

/// An error answered as `{"error": {"code": CODE, "message": MESSAGE}}` with a 4xx or 5xx
/// status. `code` is a stable word clients may branch on; `message` says what was wrong and
/// what to do, in the library's words where the library found the problem.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONBody.response(["error": ["code": code, "message": message]], status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    static func alreadyExists(_ name: String, where place: String = "") -> APIError {
        APIError(.conflict, "already_exists", "an index named '\(name)' exists\(place): DELETE it first, or choose another name")
    }
    static func unknownIndex(_ name: String) -> APIError {
        APIError(.notFound, "unknown_index", "no index named '\(name)': GET /v1/indexes lists them, PUT /v1/indexes/\(name) creates it")
    }

    /// The answer to an error of the library (or anything else), with the data directory's
    /// path removed from its message so that clients see index names, not server paths.
    static func from(_ error: any Error, dataDirectory: String) -> APIError {
        if let error = error as? APIError { return error }
        let message = "\(error)".replacingOccurrences(of: dataDirectory.hasSuffix("/") ? dataDirectory : dataDirectory + "/", with: "")
        switch error {
        case let error as IndexError:
            switch error {
            case .noIndex: return APIError(.notFound, "unknown_index", message)
            case .unknownID: return APIError(.notFound, "unknown_id", message)
            case .alreadyExists: return APIError(.conflict, "already_exists", message)
            case .invalidID, .duplicateID, .widthMismatch, .invalidSetting, .noStoredVectors, .modelRequired:
                return APIError(.badRequest, "bad_request", message)
            case .kindMismatch: return APIError(.badRequest, "wrong_kind", message)
            case .modelMismatch: return APIError(.conflict, "model_mismatch", message)
            case .readOnly: return APIError(.forbidden, "read_only", message)
            case .diskFull: return APIError(.init(code: 507, reasonPhrase: "Insufficient Storage"), "disk_full", message)
            case .inUse: return APIError(.conflict, "in_use", message)
            case .corrupt, .damagedModel, .damagedTables, .unsupportedFormat, .notAnIndex, .notADirectory:
                return APIError(.internalServerError, "damaged_index", message)
            case .permissionDenied, .storage: return APIError(.internalServerError, "storage", message)
            }
        case is CodeError, is VectorFileError: return APIError(.badRequest, "bad_request", message)
        case is ModelFileError: return APIError(.badRequest, "bad_model", message)
        default: return APIError(.internalServerError, "internal", message)
        }
    }
}

/// JSON bodies in and out.
enum JSONBody {
    /// A response whose body is `object` as JSON (keys sorted).
    static func response(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A response whose body is `value` encoded as JSON.
    static func response(encoding value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// The request's body (at most `limit` bytes) decoded as `T`.
    /// - Throws: `APIError` 413 over the limit; 400 for a body that is not JSON or has a field
    ///   of the wrong type, naming the field.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is over \(limit) bytes (the server's --max-body): send fewer documents per request")
        }
        do {
            let data = Data(buffer.readableBytesView)
            let value = try JSONDecoder().decode(T.self, from: data)
            guard var noting = value as? any NotesIgnoredFields else { return value }
            noting.json = data
            return noting as! T
        } catch let error as DecodingError {
            throw APIError.badRequest(describe(error))
        } catch {
            throw APIError.badRequest("the body is not JSON: \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "the body" : "'" + keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[") + "'"
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) must be \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) must be \(typeName(type)), not null"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "the body does not have the expected shape"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Float.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}
