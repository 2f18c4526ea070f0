import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

/// A real `twentyq serve` on 127.0.0.1 at a free port, and a small HTTP client for it.
final class TestServer: @unchecked Sendable {
    let process: RunningCLI
    let base: String
    let data: String

    /// Starts the server on `data` (nil: no --data; `extra` then names --postgres) and waits
    /// for its "listening" line.
    init(data: String?, _ extra: [String] = []) throws {
        self.data = data ?? ""
        process = try startTwentyQ(["serve", "--port", "0"] + (data.map { ["--data", $0] } ?? []) + extra)
        guard let line = process.waitForLine({ $0.contains("listening on http://") }),
              let address = line.components(separatedBy: "listening on ").last else {
            let result = process.killNow()
            throw ServerFailure("the server did not start: \(result.stderr.suffix(2000))")
        }
        base = address
    }

    struct ServerFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    struct Reply {
        let status: Int
        let headers: [String: String]
        let text: String
        /// The body as a JSON object (empty when it is not one).
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
        /// The error code of a JSON error body.
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var errorMessage: String { (json["error"] as? [String: Any])?["message"] as? String ?? "" }
        var results: [[String: Any]] { json["results"] as? [[String: Any]] ?? [] }
    }

    /// One request; `json` is encoded as the body, `raw` sent as it is.
    func request(_ method: String, _ path: String, json: Any? = nil, raw: Data? = nil, token: String? = nil) throws -> Reply {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.timeoutInterval = 600
        if let json { request.httpBody = try JSONSerialization.data(withJSONObject: json) }
        if let raw { request.httpBody = raw }
        if request.httpBody != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization") }
        let box = ReplyBox()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let http = response as? HTTPURLResponse {
                var headers: [String: String] = [:]
                for (key, value) in http.allHeaderFields { headers[String(describing: key).lowercased()] = String(describing: value) }
                box.reply = Reply(status: http.statusCode, headers: headers, text: String(decoding: data ?? Data(), as: UTF8.self))
            }
            box.error = error
            done.signal()
        }.resume()
        done.wait()
        if let reply = box.reply { return reply }
        throw ServerFailure("\(method) \(path): \(box.error.map { "\($0)" } ?? "no response")")
    }

    private final class ReplyBox: @unchecked Sendable {
        var reply: Reply?
        var error: (any Error)?
    }

    /// SIGTERM, then waits for the process to end.
    @discardableResult
    func stop() -> CLIResult {
        kill(process.pid, SIGTERM)
        return process.finish()
    }
}
