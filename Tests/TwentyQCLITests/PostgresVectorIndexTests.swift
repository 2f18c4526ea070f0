import Foundation
import TestSupport
import Testing
import TwentyQ
import TwentyQPostgres

/// The library's vector index over a real PostgreSQL 15: the same answers as a `VectorIndex` of
/// the same vectors and model (rescored and not), its vectors read back as stored, its model and
/// storage kept in the database, and the refusals of `VectorIndex`.
@Suite struct PostgresVectorIndexTests {
    @Test func vectorsInPostgreSQLAnswerAsAVectorIndex() async throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let pg = try TestPostgres(); defer { pg.stop() }
        let location = try PostgresLocation(url: pg.url)
        let model = randomVectorModel(dimensions: 16, bits: 64)
        var rng = SeededGenerator(seed: 77)
        func random() -> [Float] { (0..<16).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 } }
        let vectors = (0..<300).map { _ in random() }
        let ids = (0..<300).map { String(format: "v%03d", $0) }
        let fields = (0..<300).map { ["n": "\($0)"] }

        await #expect(throws: IndexError.self) { try await PostgresVectorIndex.open(at: location, name: "vecs") }   // no model
        let index = try await PostgresVectorIndex.open(at: location, name: "vecs", model: model, storage: .float32)
        #expect(try await index.add(ids: ids, vectors: vectors, fields: fields) == AddSummary(added: 300))
        #expect(try await index.add(ids: Array(ids.prefix(4)), vectors: Array(vectors.prefix(4)), fields: Array(fields.prefix(4))) == AddSummary(unchanged: 4))
        let local = try VectorIndex.create(at: dir.appending("idx"), model: model, storage: .float32)
        try local.add(ids: ids, vectors: vectors, fields: fields)

        for q in 0..<6 {
            let query = random()
            for rescore in [true, false] {
                let want = try local.search(query, k: 8, rescore: rescore)
                let got = try await index.search(query, k: 8, rescore: rescore)
                #expect(got.map(\.id) == want.map(\.id) && got.count == 8, "query \(q), rescore \(rescore)")
                #expect(zip(got, want).allSatisfy { $0.distance == $1.distance && $0.fields == $1.fields }, "query \(q)")
                #expect(zip(got, want).allSatisfy { abs(($0.score ?? 0) - ($1.score ?? 0)) < 1e-5 }, "query \(q)")
            }
        }
        #expect(try await index.vector(for: "v007") == vectors[7])
        await #expect(throws: VectorFileError.self) { try await index.search([1, 2, 3]) }
        #expect(try await index.remove(ids: ["v007"]) == 1)
        #expect(try await index.vector(for: "v007") == nil)
        await index.close()

        // Opened by name alone: model and storage from the database; another storage is refused.
        let again = try await PostgresVectorIndex.open(at: location, name: "vecs")
        let left = try await again.count()
        #expect(again.storage == .float32 && again.dimensions == 16 && left == 299)
        await again.close()
        await #expect(throws: IndexError.self) { try await PostgresVectorIndex.open(at: location, name: "vecs", storage: .int8) }
        // Codes only: searches by Hamming distance; rescoring is refused with the reason.
        let bare = try await PostgresVectorIndex.open(at: location, name: "bare", model: model)
        try await bare.add(ids: ids, vectors: vectors)
        let query = random()
        let bareHits = try await bare.search(query, k: 5)
        #expect(bareHits.map(\.id) == (try local.search(query, k: 5, rescore: false)).map(\.id))
        await #expect(throws: IndexError.self) { try await bare.search(query, k: 5, rescore: true) }
        await bare.close()
        // An index of codes is not a vector index, and a vector index takes no bare codes.
        let codes = try await PostgresCodeIndex.create(at: location, name: "codes", bits: 64)
        await codes.close()
        await #expect(throws: IndexError.self) { try await PostgresVectorIndex.open(at: location, name: "codes") }
        let raw = try await PostgresCodeIndex.open(at: location, name: "vecs")
        await #expect(throws: IndexError.self) { try await raw.add([IndexEntry(id: "x", code: try BinaryCode(zeroBits: 64))]) }
        await raw.close()
    }

    /// Through the binary: `index --vectors` into PostgreSQL and `search --vector` /
    /// `--queries-vectors` there give the LMDB index's answers.
    @Test func theCLIIndexesAndSearchesVectorsInPostgreSQL() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let pg = try TestPostgres(); defer { pg.stop() }
        let model = dir.appending("v.tqm")
        try ModelFile.write(randomVectorModel(dimensions: 8, bits: 32), to: model)
        let file = LoaderFuzzTests.fixtures + "/vectors-12x8.jsonl"
        let url = pg.url + "#vecs", db = dir.appending("vecs")
        for target in [url, db] {
            let r = try runTwentyQ(["index", "--vectors", file, "--model", model, "--store-vectors", "float32", "--db", target, "--json"])
            let made = try parseJSONObject(r.stdout)
            #expect(r.status == 0 && made["vectors"] as? Int == 12, "\(target): \(r.stdout) \(r.stderr)")
        }
        let again = try runTwentyQ(["index", "--vectors", file, "--db", url, "--json"])
        let summary = try parseJSONObject(again.stdout)
        #expect(again.status == 0 && summary["unchanged"] as? Int == 12, "\(again.stdout) \(again.stderr)")
        let info = try parseJSONObject(try runTwentyQ(["info", "--db", url, "--json"]).stdout)
        #expect(info["kind"] as? String == "vectors" && info["stored_vectors"] as? String == "float32" && info["count"] as? Int == 12, "\(info)")
        let query = "0.1,0.2,-0.3,0.4,0.5,-0.6,0.7,0.8"
        let sql = try runTwentyQ(["search", "--db", url, "--vector", query, "-k", "5", "--json"])
        let lmdb = try runTwentyQ(["search", "--db", db, "--vector", query, "-k", "5", "--json"])
        #expect(sql.status == 0 && sql.stdout == lmdb.stdout && sql.stdout.contains("\"v"), "\(sql.stdout) \(sql.stderr) vs \(lmdb.stdout)")
        let batchSQL = try runTwentyQ(["search", "--db", url, "--queries-vectors", file, "-k", "3", "--rescore", "none"])
        let batchLMDB = try runTwentyQ(["search", "--db", db, "--queries-vectors", file, "-k", "3", "--rescore", "none"])
        // Codes alone: the same distances (ties among equal distances go by id here, by slot there).
        func distances(_ out: String) throws -> [[Int]] {
            try out.split(separator: "\n").map { line in (try parseJSONObject(String(line))["results"] as? [[String: Any]] ?? []).compactMap { $0["distance"] as? Int } }
        }
        let (gotDistances, wantDistances) = (try distances(batchSQL.stdout), try distances(batchLMDB.stdout))
        #expect(batchSQL.status == 0 && gotDistances == wantDistances && gotDistances.count == 12, "\(batchSQL.stdout) \(batchSQL.stderr)")
        // `copy` moves a vector index with its model, storage and vectors, both ways, resumably.
        let copied = try runTwentyQ(["copy", "--from", db, "--to", pg.url, "--name", "copied", "--json"])
        let copiedSummary = try parseJSONObject(copied.stdout)
        #expect(copied.status == 0 && copiedSummary["added"] as? Int == 12, "\(copied.stdout) \(copied.stderr)")
        let viaCopy = try runTwentyQ(["search", "--db", pg.url + "#copied", "--vector", query, "-k", "5", "--json"])
        #expect(viaCopy.stdout == lmdb.stdout, "\(viaCopy.stdout) \(viaCopy.stderr)")
        let back = dir.appending("back")
        let home = try runTwentyQ(["copy", "--from", pg.url, "--name", "copied", "--to", back, "--batch", "5", "--json"])
        let homeSummary = try parseJSONObject(home.stdout)
        #expect(home.status == 0 && homeSummary["added"] as? Int == 12, "\(home.stdout) \(home.stderr)")
        let rerun = try runTwentyQ(["copy", "--from", pg.url, "--name", "copied", "--to", back, "--json"])
        let rerunSummary = try parseJSONObject(rerun.stdout)
        #expect(rerun.status == 0 && rerunSummary["unchanged"] as? Int == 12, "\(rerun.stdout) \(rerun.stderr)")
        let viaBack = try runTwentyQ(["search", "--db", back, "--vector", query, "-k", "5", "--json"])
        #expect(viaBack.stdout == lmdb.stdout, "\(viaBack.stdout) \(viaBack.stderr)")
        let short = try runTwentyQ(["search", "--db", url, "--vector", "1,2,3"])
        #expect(short.status != 0 && short.stderr.contains("8-dimensional"), "\(short.stderr)")
    }
}
