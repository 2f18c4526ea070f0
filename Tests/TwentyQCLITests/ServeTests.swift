import BinaryCodes
import Foundation
import Serve
import TestSupport
import Testing
import TwentyQ

/// `twentyq serve`, the real binary on 127.0.0.1: every route, every kind of index, answers
/// identical to the library's, and the access and limit errors.
@Suite struct ServeTests {
    nonisolated(unsafe) static let documents: [[String: Any]] = [
        ["id": "shuttle", "text": "NASA launched the space shuttle into orbit from Florida.", "fields": ["title": "Launch"]],
        ["id": "hockey", "text": "The hockey team won the game in overtime."],
        ["id": "church", "text": "The church choir sang hymns on Sunday morning."],
        ["id": "xslt", "text": "Run xsltproc with a stylesheet to turn XML into HTML."],
    ]

    @Test func documentIndexesAnswerAsTheLibraryDoes() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let server = try TestServer(data: dir.path)
        var r = try server.request("PUT", "/v1/indexes/notes", json: ["kind": "documents"])
        #expect(r.status == 201 && r.json["kind"] as? String == "documents" && r.json["count"] as? Int == 0, "\(r.text)")
        r = try server.request("POST", "/v1/indexes/notes/documents", json: ["documents": Self.documents])
        #expect(r.status == 200 && r.json["added"] as? Int == 4 && r.json["replaced"] as? Int == 0, "\(r.text)")
        r = try server.request("POST", "/v1/indexes/notes/documents", json: ["documents": [Self.documents[1]]])
        #expect(r.json["unchanged"] as? Int == 1, "\(r.text)")
        r = try server.request("GET", "/v1/indexes")
        #expect((r.json["indexes"] as? [[String: Any]])?.map { $0["name"] as? String } == ["notes"], "\(r.text)")
        r = try server.request("GET", "/v1/indexes/notes")
        #expect(r.json["count"] as? Int == 4 && r.json["bits"] as? Int == 1024 && (r.json["model_fingerprint"] as? String)?.hasPrefix("tqm-") == true, "\(r.text)")

        // Searches: the same hits, in the same order, as the library over the same index (LMDB
        // lets the test's process read it while the server runs).
        let library = try DocumentIndex.open(at: dir.appending("notes"), readOnly: true)
        r = try server.request("POST", "/v1/indexes/notes/search", json: ["text": "space shuttle launch", "k": 3])
        #expect(r.results.map { $0["id"] as? String } == (try library.search("space shuttle launch", k: 3)).map(\.id), "\(r.text)")
        #expect((r.results.first?["fields"] as? [String: String])?["title"] == "Launch")
        #expect(r.results.first?["bm25"] as? Double != nil && r.results.first?["score"] as? Double != nil)
        r = try server.request("POST", "/v1/indexes/notes/search", json: ["text": "xsltproc", "k": 2])
        #expect(r.json["lexical_only"] as? Bool == true && r.results.first?["id"] as? String == "xslt", "\(r.text)")
        r = try server.request("POST", "/v1/indexes/notes/search", json: ["queries": [["id": "q1", "text": "hockey game"], ["id": "q2", "text": "choir"]], "k": 2, "rescore": "fused"])
        var fused = RankingOptions()
        fused.rescoring = .fused
        let expected = try library.search(texts: ["hockey game", "choir"], k: 2, ranking: fused)
        let batch = r.results
        #expect(batch.map { $0["query_id"] as? String } == ["q1", "q2"], "\(r.text)")
        #expect(batch.map { ($0["results"] as? [[String: Any]])?.map { $0["id"] as? String } ?? [] } == expected.map { $0.hits.map(\.id) })
        r = try server.request("POST", "/v1/indexes/notes/search", json: ["like": "hockey", "k": 1, "explain": true])
        let explained = try #require(r.results.first)
        #expect(explained["id"] as? String == "hockey" && explained["distance"] as? Int == 0, "\(r.text)")
        #expect((explained["explain"] as? [String: Any])?["agree"] as? Int == 1024)
        let code = try #require(try library.code(for: "church"))
        r = try server.request("POST", "/v1/indexes/notes/search", json: ["code": code.hex, "k": 1])
        #expect(r.results.first?["id"] as? String == "church" && r.results.first?["distance"] as? Int == 0, "\(r.text)")
        r = try server.request("POST", "/v1/indexes/notes/search", json: ["text": "hockey", "radius": 1024])
        #expect(r.results.count == 4, "\(r.text)")

        r = try server.request("GET", "/v1/indexes/notes/documents/shuttle")
        #expect(r.json["code"] as? String == (try library.code(for: "shuttle"))?.hex && (r.json["fields"] as? [String: String])?["title"] == "Launch", "\(r.text)")
        r = try server.request("DELETE", "/v1/indexes/notes/documents/church")
        #expect(r.status == 200 && r.json["removed"] as? String == "church", "\(r.text)")
        r = try server.request("DELETE", "/v1/indexes/notes/documents/church")
        #expect(r.status == 404 && r.errorCode == "unknown_id", "\(r.text)")
        r = try server.request("GET", "/v1/indexes/notes/documents/church")
        #expect(r.status == 404 && r.errorCode == "unknown_id", "\(r.text)")
        #expect(try library.count == 3)

        r = try server.request("GET", "/healthz")
        #expect(r.status == 200 && r.json["status"] as? String == "ok")
        r = try server.request("GET", "/metrics")
        #expect(r.status == 200 && r.text.contains("/v1/indexes/{name}/search"), "\(r.text.prefix(500))")
        r = try server.request("GET", "/")
        #expect(r.status == 200 && r.headers["content-type"]?.hasPrefix("text/html") == true && r.text.contains("<title>TwentyQ search</title>"))
        r = try server.request("DELETE", "/v1/indexes/notes")
        #expect(r.status == 200 && r.json["deleted"] as? String == "notes", "\(r.text)")
        r = try server.request("GET", "/v1/indexes/notes")
        #expect(r.status == 404 && r.errorCode == "unknown_index", "\(r.text)")
        #expect(!FileManager.default.fileExists(atPath: dir.appending("notes")))
        let stopped = server.stop()
        #expect(stopped.status == 0, "\(stopped.stderr.suffix(1000))")
    }

    @Test func vectorAndCodeIndexesAnswerAsTheLibraryDoes() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.appending("models"), withIntermediateDirectories: true)
        try ModelFile.write(randomVectorModel(dimensions: 16, bits: 64), to: dir.appending("models/vec.tqm"))
        let server = try TestServer(data: dir.path)
        defer { server.stop() }
        var r = try server.request("PUT", "/v1/indexes/vecs", json: ["kind": "vectors", "model": "vec", "storage": "float32"])
        #expect(r.status == 201 && r.json["dimensions"] as? Int == 16 && r.json["storage"] as? String == "float32", "\(r.text)")
        let set = clusteredVectors(count: 60, dimensions: 16, seed: 5)
        let items = (0..<60).map { ["id": "v\($0)", "vector": set.row($0).map(Double.init), "fields": ["n": String($0)]] as [String: Any] }
        r = try server.request("POST", "/v1/indexes/vecs/documents", json: ["vectors": items])
        #expect(r.json["added"] as? Int == 60, "\(r.text)")
        let library = try VectorIndex.open(at: dir.appending("vecs"), readOnly: true)
        r = try server.request("POST", "/v1/indexes/vecs/search", json: ["vector": set.row(7).map(Double.init), "k": 5])
        let hits = try library.search(set.row(7), k: 5)
        #expect(r.results.map { $0["id"] as? String } == hits.map(\.id), "\(r.text)")
        #expect(r.results.first?["id"] as? String == "v7" && (r.results.first?["fields"] as? [String: String])?["n"] == "7")
        r = try server.request("POST", "/v1/indexes/vecs/search", json: ["like": "v9", "k": 1])
        #expect(r.results.first?["id"] as? String == "v9", "\(r.text)")
        r = try server.request("GET", "/v1/indexes/vecs/documents/v3")
        #expect((r.json["vector"] as? [Double])?.map(Float.init) == set.row(3), "\(r.text.prefix(300))")
        r = try server.request("PUT", "/v1/indexes/other", json: ["kind": "vectors"])
        #expect(r.status == 400 && r.errorMessage.contains("model"), "\(r.text)")

        r = try server.request("PUT", "/v1/indexes/codes", json: ["kind": "codes", "bits": 64])
        #expect(r.status == 201 && r.json["kind"] as? String == "codes", "\(r.text)")
        let codes = try randomMatrix(bits: 64, count: 50, seed: 9)
        r = try server.request("POST", "/v1/indexes/codes/documents", json: ["codes": (0..<50).map { ["id": "c\($0)", "code": codes[$0].hex] }])
        #expect(r.json["added"] as? Int == 50, "\(r.text)")
        let reference = HammingReference.nearest(to: codes[4], in: codes, k: 6)
        r = try server.request("POST", "/v1/indexes/codes/search", json: ["code": codes[4].hex, "k": 6])
        #expect(r.results.map { $0["id"] as? String } == reference.map { "c\($0.id)" }, "\(r.text)")
        #expect(r.results.map { $0["distance"] as? Int } == reference.map(\.distance))
        r = try server.request("POST", "/v1/indexes/codes/search", json: ["code": codes[4].hex, "radius": 20])
        #expect(r.results.count == HammingReference.within(radius: 20, of: codes[4], in: codes).count, "\(r.text)")
        r = try server.request("POST", "/v1/indexes/codes/search", json: ["queries": [["id": "a", "code": codes[1].hex]], "k": 1])
        #expect((r.results.first?["results"] as? [[String: Any]])?.first?["id"] as? String == "c1", "\(r.text)")
        r = try server.request("POST", "/v1/indexes/codes/documents", json: ["codes": [["id": "bad", "code": "zz"]]])
        #expect(r.status == 400 && r.errorMessage.contains("codes[0].code"), "\(r.text)")
    }

    @Test func badRequestsGetClearJSONErrors() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let server = try TestServer(data: dir.path, ["--max-body", "4096", "--max-k", "50", "--max-batch", "3"])
        defer { server.stop() }
        _ = try server.request("PUT", "/v1/indexes/notes", json: ["kind": "documents"])
        let cases: [(String, String, Data, Int, String, String)] = [
            ("POST", "/v1/indexes/notes/search", Data("{\"text\": ".utf8), 400, "bad_request", "not valid JSON"),
            ("POST", "/v1/indexes/notes/search", Data("{\"text\": 5}".utf8), 400, "bad_request", "'text' must be a string"),
            ("POST", "/v1/indexes/notes/search", Data("{\"text\": \"x\", \"k\": \"ten\"}".utf8), 400, "bad_request", "'k' must be a number"),
            ("POST", "/v1/indexes/notes/search", Data("{\"text\": \"x\", \"k\": 51}".utf8), 400, "bad_request", "--max-k"),
            ("POST", "/v1/indexes/notes/search", Data("{\"text\": \"x\", \"like\": \"y\"}".utf8), 400, "bad_request", "exactly one"),
            ("POST", "/v1/indexes/notes/search", Data("{\"query\": \"x\", \"top_k\": 3, \"k\": 2}".utf8), 400, "bad_request",
             "give exactly one of \"text\", \"vector\", \"code\", \"like\" or \"queries\"; \"query\", \"top_k\" are no fields of this request and were ignored"),
            ("POST", "/v1/indexes/notes/search", Data("{\"text\": \"x\", \"rescore\": \"best\"}".utf8), 400, "bad_request", "rescore"),
            ("POST", "/v1/indexes/notes/search", Data("{\"text\": \"x\", \"feedback\": -1}".utf8), 400, "bad_request", "\"feedback\" must be 0 (off)"),
            ("POST", "/v1/indexes/notes/documents", Data("{\"documents\": [{\"id\": 1, \"text\": \"a\"}]}".utf8), 400, "bad_request", "'documents[0].id' must be a string"),
            ("POST", "/v1/indexes/notes/documents", Data("{\"documents\": [{\"id\": \"a\"}]}".utf8), 400, "bad_request", "'documents[0].text' is missing"),
            ("POST", "/v1/indexes/notes/documents", Data("{\"vectors\": []}".utf8), 400, "bad_request", "holds text documents"),
            ("POST", "/v1/indexes/notes/documents", try JSONSerialization.data(withJSONObject: ["documents": (0..<4).map { ["id": "d\($0)", "text": "t"] }]), 413, "batch_too_large", "--max-batch"),
            ("POST", "/v1/indexes/notes/documents", try JSONSerialization.data(withJSONObject: ["documents": [["id": "big", "text": String(repeating: "word ", count: 2000)]]]), 413, "body_too_large", "--max-body"),
            ("POST", "/v1/indexes/notes/documents", Data("{\"documents\": [{\"id\": \"\", \"text\": \"a\"}]}".utf8), 400, "bad_request", "invalid id"),
            ("POST", "/v1/indexes/nosuch/search", Data("{\"text\": \"x\"}".utf8), 404, "unknown_index", "no index named 'nosuch'"),
            ("POST", "/v1/indexes/notes/search", Data("{\"like\": \"nobody\"}".utf8), 404, "unknown_id", "nobody"),
            ("PUT", "/v1/indexes/notes", Data("{\"kind\": \"documents\"}".utf8), 409, "already_exists", "exists"),
            ("PUT", "/v1/indexes/.hidden", Data("{\"kind\": \"documents\"}".utf8), 400, "bad_request", "index name"),
            ("PUT", "/v1/indexes/x", Data("{\"kind\": \"pictures\"}".utf8), 400, "bad_request", "\"kind\" must be"),
            ("PUT", "/v1/indexes/x", Data("{\"kind\": \"codes\", \"bits\": 5000}".utf8), 400, "bad_request", "5000"),
            ("GET", "/v1/nothing", Data(), 404, "no_route", "/openapi.json"),
        ]
        for (method, path, body, status, code, words) in cases {
            let r = try server.request(method, path, raw: body.isEmpty ? nil : body)
            #expect(r.status == status && r.errorCode == code && r.errorMessage.contains(words), "\(method) \(path) \(String(decoding: body.prefix(80), as: UTF8.self)): \(r.status) \(r.text)")
            #expect(!r.errorMessage.contains(dir.path), "a server path in: \(r.errorMessage)")
        }
        // Nothing above wrote anything.
        #expect(try server.request("GET", "/v1/indexes/notes").json["count"] as? Int == 0)
    }

    @Test func tokensDecideWhoReadsAndWhoWrites() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let (writer, reader, scoped) = ("w-0123456789abcdef", "r-0123456789abcdef", "s-0123456789abcdef")
        let file = dir.appending("tokens")
        try "# test tokens\n\(writer) write\n\(reader) read\n\(scoped) write other\n".write(toFile: file, atomically: true, encoding: .utf8)
        let data = dir.appending("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let server = try TestServer(data: data, ["--tokens", file])
        defer { server.stop() }
        var r = try server.request("PUT", "/v1/indexes/notes", json: ["kind": "documents"])
        #expect(r.status == 401 && r.errorCode == "unauthorized" && r.headers["www-authenticate"] == "Bearer", "\(r.status) \(r.text)")
        r = try server.request("PUT", "/v1/indexes/notes", json: ["kind": "documents"], token: "wrong-0123456789abcdef")
        #expect(r.status == 401, "\(r.text)")
        r = try server.request("PUT", "/v1/indexes/notes", json: ["kind": "documents"], token: reader)
        #expect(r.status == 403 && r.errorCode == "forbidden" && r.errorMessage.contains("read"), "\(r.text)")
        r = try server.request("PUT", "/v1/indexes/notes", json: ["kind": "documents"], token: scoped)
        #expect(r.status == 403 && r.errorMessage.contains("notes"), "\(r.text)")
        r = try server.request("PUT", "/v1/indexes/notes", json: ["kind": "documents"], token: writer)
        #expect(r.status == 201, "\(r.text)")
        r = try server.request("POST", "/v1/indexes/notes/documents", json: ["documents": Self.documents], token: reader)
        #expect(r.status == 403, "\(r.text)")
        r = try server.request("POST", "/v1/indexes/notes/documents", json: ["documents": Self.documents], token: writer)
        #expect(r.status == 200, "\(r.text)")
        r = try server.request("POST", "/v1/indexes/notes/search", json: ["text": "hockey"], token: reader)
        #expect(r.status == 200 && r.results.first?["id"] as? String == "hockey", "\(r.text)")
        r = try server.request("DELETE", "/v1/indexes/notes/documents/hockey", token: reader)
        #expect(r.status == 403, "\(r.text)")
        r = try server.request("GET", "/metrics")
        #expect(r.status == 401)
        #expect(try server.request("GET", "/metrics", token: reader).status == 200)
        // Open without a token: health, the page and the API description.
        for path in ["/healthz", "/", "/openapi.json"] { #expect(try server.request("GET", path).status == 200, "\(path)") }
    }

    @Test func aServerOffTheLoopbackAddressNeedsTokensAndBadTokenFilesAreNamed() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var r = try runTwentyQ(["serve", "--data", dir.path, "--host", "0.0.0.0", "--port", "0"])
        #expect(r.status != 0 && r.stderr.contains("without access tokens") && r.stderr.contains("--tokens"), "\(r.stderr)")
        try "short write\n".write(toFile: dir.appending("tokens"), atomically: true, encoding: .utf8)
        r = try runTwentyQ(["serve", "--data", dir.path, "--port", "0", "--tokens", dir.appending("tokens")])
        #expect(r.status != 0 && r.stderr.contains("at least 16 characters"), "\(r.stderr)")
        r = try runTwentyQ(["serve", "--data", dir.appending("missing"), "--port", "0"])
        #expect(r.status != 0 && r.stderr.contains("is not a directory"), "\(r.stderr)")
    }

    /// /openapi.json describes exactly the routes the router has.
    @Test func theOpenAPIDocumentListsEveryRoute() throws {
        let url = Snippets.root.appendingPathComponent("Sources/Serve/Resources/openapi.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented: [String] = []
        for (path, operations) in paths {
            for method in operations.keys where ["get", "put", "post", "delete", "patch"].contains(method) {
                documented.append(method.uppercased() + " " + path)
            }
        }
        #expect(documented.sorted() == serveRouteList(), "documented: \(documented.sorted())\nrouted: \(serveRouteList())")
    }

    /// Writes acknowledged before a SIGTERM or a SIGKILL are in the index after a restart; a
    /// SIGTERM lets the request in flight finish.
    @Test func acknowledgedWritesSurviveStopsAndKills() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var server = try TestServer(data: dir.path, ["--log-level", "debug"])
        #expect(try server.request("PUT", "/v1/indexes/notes", json: ["kind": "documents"]).status == 201)
        let many = (0..<3000).map { ["id": "d\($0)", "text": "document number \($0) about topic \($0 % 17) and more words \($0 * 7)"] }
        // A large write in flight when SIGTERM arrives: it finishes and is acknowledged.
        let reply = ReplyHolder()
        let sent = DispatchSemaphore(value: 0)
        Thread.detachNewThread { [server] in
            reply.value = try? server.request("POST", "/v1/indexes/notes/documents", json: ["documents": many])
            sent.signal()
        }
        // The server logs each request as it arrives (--log-level debug).
        let arrived = server.process.waitUntil(limit: 600) { server.process.errorsSoFar.contains("/v1/indexes/notes/documents") }
        #expect(arrived, "the request never reached the server: \(server.process.errorsSoFar.suffix(500))")
        kill(server.process.pid, SIGTERM)
        sent.wait()
        let stopped = server.process.finish()
        #expect(stopped.status == 0, "\(stopped.stderr.suffix(1000))")
        #expect(reply.value?.status == 200 && reply.value?.json["added"] as? Int == 3000, "\(reply.value?.text ?? "no reply")")

        server = try TestServer(data: dir.path)
        #expect(try server.request("GET", "/v1/indexes/notes").json["count"] as? Int == 3000)
        #expect(try server.request("POST", "/v1/indexes/notes/documents", json: ["documents": [["id": "late", "text": "written just before the kill"]]]).status == 200)
        server.process.killNow()
        server = try TestServer(data: dir.path)
        defer { server.stop() }
        #expect(try server.request("GET", "/v1/indexes/notes/documents/late").status == 200)
        #expect(try server.request("GET", "/v1/indexes/notes").json["count"] as? Int == 3001)
    }

    private final class ReplyHolder: @unchecked Sendable {
        var value: TestServer.Reply?
    }
}
