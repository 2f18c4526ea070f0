import Hummingbird

/// Errors the router raises itself (no such route, a method the route does not take) answered
/// in the API's JSON shape, like every other error.
struct ErrorJSONMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                throw APIError(.notFound, "no_route", "no route \(request.method) \(request.uri.path): /openapi.json lists the API")
            case .methodNotAllowed:
                throw APIError(.methodNotAllowed, "method_not_allowed", "\(request.uri.path) does not take \(request.method): /openapi.json lists the API")
            default:
                throw APIError(error.status, "bad_request", error.body ?? "\(error.status)")
            }
        }
    }
}
