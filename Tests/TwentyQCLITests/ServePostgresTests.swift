import BinaryCodes
import Encoder
import Foundation
import TestSupport
import Testing

/// `twentyq serve --postgres`: the real binary on 127.0.0.1 serving the indexes of codes in a
/// real PostgreSQL 16 with pgvector (through a pool), answers equal to the reference, the
/// HNSW graph over HTTP, and a directory's indexes beside them.
@Suite struct ServePostgresTests {
    /// "id distance" of the k nearest codes, ties by id (the SQL order).
    static func reference(_ query: BinaryCode, _ codes: CodeMatrix, k: Int) -> [String] {
        (0..<codes.count).map { (HammingReference.distance(codes[$0], query), "s\($0)") }.sorted { $0 < $1 }.prefix(k).map { "\($0.1) \($0.0)" }
    }

    static func hitsText(_ results: [[String: Any]]) -> [String] {
        results.map { "\($0["id"] as? String ?? "?") \($0["distance"] as? Int ?? -1)" }
    }

    @Test func indexesInPostgreSQLAreServedLikeTheReference() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let pg = try TestPostgres(pgvector: true); defer { pg.stop() }
        // An index made before the server starts, by the CLI.
        let codes = try clusteredCodes(bits: 64, count: 300, seed: 17, noise: 6, centres: 5)
        let file = dir.appending("codes.jsonl")
        try (0..<300).map { "{\"id\": \"s\($0)\", \"code\": \"\(codes[$0].hex)\", \"n\": \"\($0)\"}" }.joined(separator: "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let made = try runTwentyQ(["index", "--codes", file, "--db", pg.url + "#shelf"])
        #expect(made.status == 0, "\(made.stderr)")

        let server = try TestServer(data: nil, ["--postgres", pg.url, "--postgres-connections", "2"])
        defer { server.stop() }
        var r = try server.request("GET", "/v1/indexes")
        let listed = r.json["indexes"] as? [[String: Any]] ?? []
        #expect(listed.count == 1 && listed.first?["name"] as? String == "shelf" && listed.first?["store"] as? String == "postgres"
                && listed.first?["count"] as? Int == 300, "\(r.text)")
        r = try server.request("GET", "/v1/indexes/shelf")
        #expect(r.json["bits"] as? Int == 64 && r.json["graph"] as? Bool == false && (r.json["table_bytes"] as? Int ?? 0) > 0, "\(r.text)")

        // Searches: exact, by code, like, radius and batch, equal to the reference.
        r = try server.request("POST", "/v1/indexes/shelf/search", json: ["code": codes[40].hex, "k": 12])
        #expect(Self.hitsText(r.results) == Self.reference(codes[40], codes, k: 12), "\(r.text)")
        #expect(r.results.allSatisfy { ($0["fields"] as? [String: String])?["n"] == ($0["id"] as? String)?.dropFirst().description }, "\(r.text)")
        r = try server.request("POST", "/v1/indexes/shelf/search", json: ["like": "s7", "k": 5])
        #expect(Self.hitsText(r.results) == Self.reference(codes[7], codes, k: 5), "\(r.text)")
        r = try server.request("POST", "/v1/indexes/shelf/search", json: ["code": codes[3].hex, "radius": 10])
        #expect(Self.hitsText(r.results) == Self.reference(codes[3], codes, k: 300).filter { Int($0.split(separator: " ")[1])! <= 10 }, "\(r.text)")
        let queries = try randomMatrix(bits: 64, count: 3, seed: 5)
        r = try server.request("POST", "/v1/indexes/shelf/search", json: ["k": 4, "queries": (0..<3).map { ["id": "q\($0)", "code": queries[$0].hex] }])
        let batch = r.json["results"] as? [[String: Any]] ?? []
        #expect(batch.count == 3, "\(r.text)")
        for (q, item) in batch.enumerated() {
            #expect(item["query_id"] as? String == "q\(q)" && Self.hitsText(item["results"] as? [[String: Any]] ?? []) == Self.reference(queries[q], codes, k: 4), "\(item)")
        }
        // Concurrent searches through two pooled connections: every answer right.
        let answers = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 12) { i in
            let reply = try? server.request("POST", "/v1/indexes/shelf/search", json: ["code": codes[i * 20].hex, "k": 6])
            answers.set(i, reply.map { Self.hitsText($0.results) } ?? [])
        }
        for i in 0..<12 { #expect(answers.get(i) == Self.reference(codes[i * 20], codes, k: 6), "search \(i)") }

        // Refused, with the reason.
        r = try server.request("POST", "/v1/indexes/shelf/search", json: ["text": "space"])
        #expect(r.status == 400 && r.errorMessage.contains("holds codes in PostgreSQL"), "\(r.text)")
        r = try server.request("POST", "/v1/indexes/shelf/search", json: ["code": codes[1].hex, "ef_search": 40])
        #expect(r.status == 400 && r.errorMessage.contains("no HNSW graph"), "\(r.text)")
        r = try server.request("POST", "/v1/indexes/shelf/search", json: ["code": "zz"])
        #expect(r.status == 400 && r.errorMessage.contains("64-bit codes"), "\(r.text)")
        r = try server.request("POST", "/v1/indexes/shelf/search", json: ["like": "nobody"])
        #expect(r.status == 404 && r.errorCode == "unknown_id", "\(r.text)")

        // The graph, built by the CLI while the server runs, answers "ef_search".
        #expect(try runTwentyQ(["tables", "--db", pg.url + "#shelf", "--graph"]).status == 0)
        r = try server.request("POST", "/v1/indexes/shelf/search", json: ["code": codes[9].hex, "k": 5, "ef_search": 64])
        #expect(r.status == 200 && r.results.count == 5 && r.results.first?["distance"] as? Int == 0, "\(r.text)")
        for hit in r.results {
            let n = Int((hit["id"] as! String).dropFirst())!
            #expect(hit["distance"] as? Int == HammingReference.distance(codes[n], codes[9]), "\(hit)")
        }

        // A new index over HTTP (PostgreSQL is the only store of this server), its items, and its end.
        r = try server.request("PUT", "/v1/indexes/fresh", json: ["kind": "codes", "bits": 32])
        #expect(r.status == 201 && r.json["store"] as? String == "postgres" && r.json["bits"] as? Int == 32, "\(r.text)")
        r = try server.request("PUT", "/v1/indexes/fresh", json: ["kind": "codes", "bits": 32])
        #expect(r.status == 409 && r.errorCode == "already_exists", "\(r.text)")
        r = try server.request("PUT", "/v1/indexes/vecs", json: ["kind": "vectors", "model": "m"])
        #expect(r.status == 400 && r.errorMessage.contains("no data directory for models"), "\(r.text)")
        r = try server.request("PUT", "/v1/indexes/Upper", json: ["kind": "codes", "bits": 32])
        #expect(r.status == 400 && r.errorMessage.contains("lowercase"), "\(r.text)")
        r = try server.request("POST", "/v1/indexes/fresh/documents", json: ["codes": [["id": "a", "code": "0000ffff", "fields": ["t": "x"]], ["id": "b", "code": "ffffffff"]]])
        #expect(r.status == 200 && r.json["added"] as? Int == 2, "\(r.text)")
        r = try server.request("POST", "/v1/indexes/fresh/documents", json: ["codes": [["id": "c", "code": "123"]]])
        #expect(r.status == 400 && r.errorMessage.contains("codes[0].code"), "\(r.text)")
        r = try server.request("GET", "/v1/indexes/fresh/documents/a")
        #expect(r.json["code"] as? String == "0000ffff" && (r.json["fields"] as? [String: String]) == ["t": "x"], "\(r.text)")
        r = try server.request("DELETE", "/v1/indexes/fresh/documents/a")
        #expect(r.status == 200, "\(r.text)")
        r = try server.request("DELETE", "/v1/indexes/fresh/documents/a")
        #expect(r.status == 404 && r.errorCode == "unknown_id", "\(r.text)")
        r = try server.request("GET", "/v1/indexes/fresh")
        #expect(r.json["count"] as? Int == 1, "\(r.text)")
        r = try server.request("DELETE", "/v1/indexes/fresh")
        #expect(r.status == 200, "\(r.text)")
        r = try server.request("GET", "/v1/indexes/fresh")
        #expect(r.status == 404 && r.errorCode == "unknown_index", "\(r.text)")
        #expect(try pg.psql(sql: "SELECT count(*) FROM tq_indexes WHERE name = 'fresh';").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test func aDirectoryAndPostgreSQLAreServedTogether() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let pg = try TestPostgres(); defer { pg.stop() }
        let data = dir.appending("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let file = dir.appending("codes.jsonl")
        try "{\"id\": \"x\", \"code\": \"00ff\"}\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try runTwentyQ(["index", "--codes", file, "--db", pg.url + "#remote"]).status == 0)
        #expect(try runTwentyQ(["index", "--codes", file, "--db", pg.url + "#both"]).status == 0)
        #expect(try runTwentyQ(["index", "--codes", file, "--db", data + "/both"]).status == 0)
        #expect(try runTwentyQ(["index", "--codes", file, "--db", data + "/local"]).status == 0)

        let server = try TestServer(data: data, ["--postgres", pg.url])
        defer { server.stop() }
        var r = try server.request("GET", "/v1/indexes")
        let listed = (r.json["indexes"] as? [[String: Any]] ?? []).map { "\($0["name"] as? String ?? "?") \($0["store"] as? String ?? "?")" }
        #expect(listed == ["both lmdb", "local lmdb", "remote postgres"], "\(r.text)")
        r = try server.request("PUT", "/v1/indexes/remote", json: ["kind": "codes", "bits": 16])
        #expect(r.status == 409 && r.errorMessage.contains("exists in PostgreSQL"), "\(r.text)")
        r = try server.request("PUT", "/v1/indexes/local", json: ["kind": "codes", "bits": 16, "store": "postgres"])
        #expect(r.status == 409, "\(r.text)")
        r = try server.request("PUT", "/v1/indexes/other", json: ["kind": "codes", "bits": 16, "store": "elsewhere"])
        #expect(r.status == 400 && r.errorMessage.contains("\"store\" must be"), "\(r.text)")
        r = try server.request("PUT", "/v1/indexes/made", json: ["kind": "codes", "bits": 16])
        #expect(r.status == 201 && r.json["store"] as? String == "lmdb", "\(r.text)")
        r = try server.request("POST", "/v1/indexes/remote/search", json: ["code": "00ff", "k": 1])
        #expect(r.results.first?["id"] as? String == "x" && r.results.first?["distance"] as? Int == 0, "\(r.text)")
        r = try server.request("POST", "/v1/indexes/local/search", json: ["code": "00ff", "ef_search": 10])
        #expect(r.status == 400 && r.errorMessage.contains("searched exactly"), "\(r.text)")
    }

    @Test func aDatabaseThatCannotBeReachedStopsTheStart() throws {
        // Nothing listens on this port (TestPostgres found it free a moment ago).
        let pg = try TestPostgres(); let url = pg.url; pg.stop()
        let run = try runTwentyQ(["serve", "--postgres", url, "--port", "0"])
        #expect(run.status != 0 && run.stderr.contains("cannot connect"), "\(run.stderr)")
        let neither = try runTwentyQ(["serve", "--port", "0"])
        #expect(neither.status != 0 && neither.stderr.contains("give --data DIR"), "\(neither.stderr)")
        let badURL = try runTwentyQ(["serve", "--postgres", "postgres://127.0.0.1/db", "--port", "0"])
        #expect(badURL.status != 0 && badURL.stderr.contains("names no user"), "\(badURL.stderr)")
    }

    /// A vector index in PostgreSQL made and filled over HTTP answers "vector", "like" and
    /// batches as an LMDB vector index of the same vectors and model does.
    @Test func vectorIndexesInPostgreSQLAnswerAsInLMDB() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let pg = try TestPostgres(); defer { pg.stop() }
        let data = dir.appending("data")
        try FileManager.default.createDirectory(atPath: data + "/models", withIntermediateDirectories: true)
        try ModelFile.write(randomVectorModel(dimensions: 8, bits: 32), to: data + "/models/v8.tqm")
        let server = try TestServer(data: data, ["--postgres", pg.url])
        defer { server.stop() }
        var rng = SeededGenerator(seed: 3)
        let vectors = (0..<120).map { i in ["id": "v\(i)", "vector": (0..<8).map { _ in Double(Int(rng.next() % 2001) - 1000) / 1000 }, "fields": ["n": "\(i)"]] as [String: Any] }
        var r = try server.request("PUT", "/v1/indexes/sqlvec", json: ["kind": "vectors", "model": "v8", "storage": "float32", "store": "postgres"])
        #expect(r.status == 201 && r.json["kind"] as? String == "vectors" && r.json["store"] as? String == "postgres", "\(r.text)")
        #expect(try server.request("PUT", "/v1/indexes/localvec", json: ["kind": "vectors", "model": "v8", "storage": "float32"]).status == 201)
        for name in ["sqlvec", "localvec"] {
            r = try server.request("POST", "/v1/indexes/\(name)/documents", json: ["vectors": vectors])
            #expect(r.status == 200 && r.json["added"] as? Int == 120, "\(name): \(r.text)")
        }
        func ids(_ results: [[String: Any]]) -> [String] { results.compactMap { $0["id"] as? String } }
        for q in 0..<4 {
            let query = (0..<8).map { _ in Double(Int(rng.next() % 2001) - 1000) / 1000 }
            let sql = try server.request("POST", "/v1/indexes/sqlvec/search", json: ["vector": query, "k": 6])
            let local = try server.request("POST", "/v1/indexes/localvec/search", json: ["vector": query, "k": 6])
            #expect(sql.status == 200 && ids(sql.results) == ids(local.results) && sql.results.count == 6, "query \(q): \(sql.text) vs \(local.text)")
        }
        let like = try server.request("POST", "/v1/indexes/sqlvec/search", json: ["like": "v17", "k": 3])
        #expect(like.status == 200 && ids(like.results).first == "v17", "\(like.text)")
        let batch = ["queries": [["id": "a", "vector": vectors[5]["vector"]!], ["id": "b", "vector": vectors[9]["vector"]!]], "k": 2] as [String: Any]
        r = try server.request("POST", "/v1/indexes/sqlvec/search", json: batch)
        let first = (r.json["results"] as? [[String: Any]] ?? []).map { ids($0["results"] as? [[String: Any]] ?? []).first ?? "" }
        #expect(first == ["v5", "v9"], "\(r.text)")
        r = try server.request("POST", "/v1/indexes/sqlvec/search", json: ["vector": [1, 2], "k": 2])
        #expect(r.status == 400 && r.errorMessage.contains("8 numbers"), "\(r.text)")
        r = try server.request("POST", "/v1/indexes/sqlvec/documents", json: ["documents": [["id": "x", "text": "words"]]])
        #expect(r.status == 400 && r.errorMessage.contains("holds vectors in PostgreSQL"), "\(r.text)")
    }
}

/// Answers gathered from concurrent requests.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: [String]] = [:]
    func set(_ i: Int, _ value: [String]) { lock.withLock { values[i] = value } }
    func get(_ i: Int) -> [String] { lock.withLock { values[i] ?? [] } }

    /// An index of text documents in PostgreSQL, made and filled over HTTP: its text searches
    /// (single, batch, a query of unknown words) answer as an LMDB index of the same documents
    /// with the same (shipped) model does.
    @Test func textIndexesInPostgreSQLAnswerAsInLMDB() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let pg = try TestPostgres(); defer { pg.stop() }
        let data = dir.appending("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let server = try TestServer(data: data, ["--postgres", pg.url, "--postgres-connections", "2"])
        defer { server.stop() }
        let lines = try String(contentsOfFile: LoaderFuzzTests.fixtures + "/fortunes-200.jsonl", encoding: .utf8).split(separator: "\n")
        let documents = try lines.map { line -> [String: Any] in
            let o = try parseJSONObject(String(line))
            return ["id": o["id"] as! String, "text": o["text"] as! String, "fields": ["label": o["label"] as! String]]
        }
        var r = try server.request("PUT", "/v1/indexes/sql", json: ["kind": "documents", "store": "postgres"])
        #expect(r.status == 201, "\(r.text)")
        #expect(try server.request("PUT", "/v1/indexes/local", json: ["kind": "documents"]).status == 201)
        for name in ["sql", "local"] {
            r = try server.request("POST", "/v1/indexes/\(name)/documents", json: ["documents": documents])
            #expect(r.status == 200 && r.json["added"] as? Int == documents.count, "\(name): \(r.text)")
        }
        r = try server.request("POST", "/v1/indexes/sql/documents", json: ["documents": Array(documents.prefix(5))])
        #expect(r.json["unchanged"] as? Int == 5, "\(r.text)")
        r = try server.request("GET", "/v1/indexes/sql")
        #expect(r.json["kind"] as? String == "documents" && r.json["store"] as? String == "postgres" && r.json["count"] as? Int == 200, "\(r.text)")

        func ids(_ results: [[String: Any]]) -> [String] { results.compactMap { $0["id"] as? String } }
        for query in ["the dog drinks too much", "space and the stars", "love is a many splendored thing"] {
            for rescore in ["bm25", "fused"] {
                let sql = try server.request("POST", "/v1/indexes/sql/search", json: ["text": query, "k": 7, "rescore": rescore])
                let local = try server.request("POST", "/v1/indexes/local/search", json: ["text": query, "k": 7, "rescore": rescore])
                #expect(sql.status == 200 && ids(sql.results) == ids(local.results) && !sql.results.isEmpty, "\(query) \(rescore): \(sql.text) vs \(local.text)")
                #expect(sql.results.first?["fields"] as? [String: String] == local.results.first?["fields"] as? [String: String])
            }
        }
        let batch = ["queries": [["id": "a", "text": "wookie win"], ["id": "b", "text": "channel bionic"]], "k": 5] as [String: Any]
        let sqlBatch = (try server.request("POST", "/v1/indexes/sql/search", json: batch)).json["results"] as? [[String: Any]] ?? []
        let localBatch = (try server.request("POST", "/v1/indexes/local/search", json: batch)).json["results"] as? [[String: Any]] ?? []
        #expect(sqlBatch.count == 2 && sqlBatch.map { ids($0["results"] as? [[String: Any]] ?? []) } == localBatch.map { ids($0["results"] as? [[String: Any]] ?? []) },
                "\(sqlBatch) vs \(localBatch)")
        r = try server.request("POST", "/v1/indexes/sql/search", json: ["text": "zzxqv qqzzk"])
        #expect(r.status == 200 && r.results.isEmpty && r.json["lexical_only"] as? Bool == true, "\(r.text)")
        // Codes into an index of text documents are refused with what to send.
        r = try server.request("POST", "/v1/indexes/sql/documents", json: ["codes": [["id": "x", "code": "00"]]])
        #expect(r.status == 400 && r.errorMessage.contains("holds text documents in PostgreSQL"), "\(r.text)")
        r = try server.request("DELETE", "/v1/indexes/sql/documents/art%2F0")
        #expect(r.status == 200, "\(r.text)")
        #expect(try server.request("GET", "/v1/indexes/sql").json["count"] as? Int == 199)
    }
}
