import BinaryCodes
import CodeStore
import Encoder
import Foundation
import TestSupport
import Testing

/// `twentyq copy` through the real binary between a real LMDB index and a real PostgreSQL 15:
/// everything arrives, a second run (a resumed copy) adds only what is missing, and the copy
/// back holds the same ids and codes; `info` and `search --code/--like` reach the index in
/// PostgreSQL through `--db URL#NAME`, and the commands that cannot refuse such a URL.
@Suite struct CopyCLITests {
    /// `export` of an index: id -> (code, fields).
    static func exported(_ db: String) throws -> [String: (code: String, fields: [String: String])] {
        let r = try runTwentyQ(["export", "--db", db])
        guard r.status == 0 else { throw CLIFailure("export: \(r.stderr)") }
        var out: [String: (String, [String: String])] = [:]
        for line in r.stdout.split(separator: "\n") {
            let o = try parseJSONObject(String(line))
            out[o["id"] as! String] = (o["code"] as! String, (o["metadata"] as? [String: Any] ?? [:]).mapValues { "\($0)" })
        }
        return out
    }

    struct CLIFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test func anIndexGoesToPostgreSQLAndBackAndASecondRunResumes() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let corpus = dir.appending("docs.jsonl")
        try (0..<230).map { "{\"id\": \"doc\($0)\", \"text\": \"note \($0) about space launch hockey \($0 % 7) and the engine\", \"topic\": \"t\($0 % 3)\"}" }
            .joined(separator: "\n").write(toFile: corpus, atomically: true, encoding: .utf8)
        let model = dir.appending("m.tqm"), db = dir.appending("notes")
        try ModelFile.write(randomModel(bits: 64, hidden: 32), to: model)
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, corpus]).status == 0)
        let source = try Self.exported(db)
        #expect(source.count == 230)

        let pg = try TestPostgres(); defer { pg.stop() }
        let first = try runTwentyQ(["copy", "--from", db, "--to", pg.url, "--batch", "50", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        var summary = try parseJSONObject(first.stdout)
        #expect(summary["added"] as? Int == 230 && summary["unchanged"] as? Int == 0, "\(summary)")
        #expect(try pg.psql(sql: "SELECT count(*) FROM tq_notes;").trimmingCharacters(in: .whitespacesAndNewlines) == "230")
        #expect(try pg.psql(sql: "SELECT bits, model_fingerprint <> '' FROM tq_indexes WHERE name = 'notes';").trimmingCharacters(in: .whitespacesAndNewlines) == "64|t")

        // As if the first copy had stopped part-way: some rows missing, one out of date.
        _ = try pg.psql(sql: "DELETE FROM tq_notes WHERE id IN ('doc5', 'doc77', 'doc229'); UPDATE tq_notes SET fields = '{}' WHERE id = 'doc9';")
        let again = try runTwentyQ(["copy", "--from", db, "--to", pg.url, "--batch", "64", "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        summary = try parseJSONObject(again.stdout)
        #expect(summary["added"] as? Int == 3 && summary["replaced"] as? Int == 1 && summary["unchanged"] as? Int == 226, "\(summary)")

        // Back into a new directory: an index of codes with the same ids, codes and fields.
        let back = dir.appending("notes2")
        let home = try runTwentyQ(["copy", "--from", pg.url, "--name", "notes", "--to", back, "--batch", "40", "--json"])
        #expect(home.status == 0, "\(home.stderr)")
        #expect(try parseJSONObject(home.stdout)["added"] as? Int == 230)
        let copied = try Self.exported(back)
        #expect(copied.count == 230)
        for (id, item) in source {
            #expect(copied[id]?.code == item.code && copied[id]?.fields == item.fields, "\(id)")
        }
        let rerun = try runTwentyQ(["copy", "--from", pg.url, "--name", "notes", "--to", back, "--json"])
        #expect(try parseJSONObject(rerun.stdout)["unchanged"] as? Int == 230, "\(rerun.stdout) \(rerun.stderr)")
        // Searching the copy by a stored document's code finds the same neighbours as the source.
        let like = try runTwentyQ(["search", "--db", db, "--rescore", "none", "--like", "doc3", "-k", "5", "--json"])
        let likeCopy = try runTwentyQ(["search", "--db", back, "--like", "doc3", "-k", "5", "--json"])
        func distances(_ r: CLIResult) throws -> [Int] {
            (try parseJSONObject(r.stdout)["results"] as? [[String: Any]] ?? []).compactMap { $0["distance"] as? Int }
        }
        #expect(try distances(like) == distances(likeCopy) && !(try distances(like)).isEmpty, "\(like.stdout) \(likeCopy.stdout)")

        // The index in PostgreSQL itself, through `--db URL#NAME`: info, and search by a stored
        // document's code (the same distances as the LMDB index) or by a code within a radius.
        let url = pg.url + "#notes"
        let info = try parseJSONObject(try runTwentyQ(["info", "--db", url, "--json"]).stdout)
        #expect(info["count"] as? Int == 230 && info["bits"] as? Int == 64 && (info["table_bytes"] as? Int ?? 0) > 0, "\(info)")
        let likePG = try runTwentyQ(["search", "--db", url, "--like", "doc3", "-k", "5", "--json"])
        #expect(likePG.status == 0, "\(likePG.stderr)")
        #expect(try distances(likePG) == distances(like), "\(likePG.stdout)")
        let hex = try #require(source["doc3"]?.code)
        let radius = try runTwentyQ(["search", "--db", url, "--code", hex, "--radius", "12", "--json"])
        let inRadius = try distances(radius)
        let expected = source.values.map { item -> Int in
            let a = try! BinaryCode(hex: item.code, bits: 64), b = try! BinaryCode(hex: hex, bits: 64)
            return HammingReference.distance(a, b)
        }.filter { $0 <= 12 }.sorted()
        #expect(inRadius == expected && !expected.isEmpty, "\(radius.stdout) \(radius.stderr)")
        // A text index arrives with its terms and model: text queries work on the copy.
        let text = try runTwentyQ(["search", "--db", url, "-k", "3", "--json", "space launch"])
        let textHits = try parseJSONObject(text.stdout)["results"] as? [Any]
        #expect(text.status == 0 && textHits?.count == 3, "\(text.stdout) \(text.stderr)")
        let noName = try runTwentyQ(["info", "--db", pg.url])
        #expect(noName.status != 0 && noName.stderr.contains("name the index after '#'"), "\(noName.stderr)")
        let indexIntoURL = try runTwentyQ(["index", "--db", url, "--json", corpus])
        let reindexed = try parseJSONObject(indexIntoURL.stdout)
        #expect(indexIntoURL.status == 0 && reindexed["unchanged"] as? Int == 230, "\(indexIntoURL.stdout) \(indexIntoURL.stderr)")
        let checkURL = try runTwentyQ(["check", "--db", url])
        #expect(checkURL.status != 0 && checkURL.stderr.contains("works on an index directory"), "\(checkURL.stderr)")
        // Ready-made codes straight into PostgreSQL, then removed by id (all or none).
        let codesFile = dir.appending("codes.jsonl")
        try source.map { "{\"id\": \"\($0.key)\", \"code\": \"\($0.value.code)\"}" }.joined(separator: "\n")
            .write(toFile: codesFile, atomically: true, encoding: .utf8)
        let raw = pg.url + "#raw"
        let indexed = try runTwentyQ(["index", "--codes", codesFile, "--db", raw, "--batch", "100", "--json"])
        #expect(indexed.status == 0, "\(indexed.stderr)")
        #expect(try parseJSONObject(indexed.stdout)["added"] as? Int == 230, "\(indexed.stdout)")
        let nearest = try runTwentyQ(["search", "--db", raw, "--code", hex, "-k", "1", "--json"])
        #expect((try parseJSONObject(nearest.stdout)["results"] as? [[String: Any]])?.first?["distance"] as? Int == 0, "\(nearest.stdout)")
        let unknown = try runTwentyQ(["remove", "--db", raw, "doc1", "nobody"])
        #expect(unknown.status != 0 && unknown.stderr.contains("nobody"), "\(unknown.stderr)")
        let removed = try runTwentyQ(["remove", "--db", raw, "doc1", "doc2"])
        #expect(removed.status == 0 && removed.stdout.contains("removed 2 documents"), "\(removed.stdout) \(removed.stderr)")
        #expect(try parseJSONObject(try runTwentyQ(["info", "--db", raw, "--json"]).stdout)["count"] as? Int == 228)
        #expect(!FileManager.default.fileExists(atPath: "postgres:"))

        // Refused, with the reason: into the document index itself, between two directories,
        // an index name PostgreSQL cannot take.
        let rawInfo = try parseJSONObject(try runTwentyQ(["info", "--db", raw, "--json"]).stdout)
        #expect(rawInfo["format"] as? Int == 1 && rawInfo["kind"] as? String == "codes", "\(rawInfo)")
        let codesText = try runTwentyQ(["search", "--db", raw, "space launch"])
        #expect(codesText.status != 0 && codesText.stderr.contains("keeps codes without terms or a model") && codesText.stderr.contains("--code HEX or --like ID"), "\(codesText.stderr)")
        let intoDocuments = try runTwentyQ(["copy", "--from", pg.url, "--name", "raw", "--to", db])
        #expect(intoDocuments.status != 0 && intoDocuments.stderr.contains("is an index of documents: copy into a new directory"), "\(intoDocuments.stderr)")
        let twoDirectories = try runTwentyQ(["copy", "--from", db, "--to", back])
        #expect(twoDirectories.status != 0 && twoDirectories.stderr.contains("twentyq backup"), "\(twoDirectories.stderr)")
        let badName = try runTwentyQ(["copy", "--from", db, "--to", pg.url, "--name", "Bad-Name"])
        #expect(badName.status != 0 && badName.stderr.contains("Bad-Name"), "\(badName.stderr)")
    }

    @Test func theGraphIsBuiltAndSearchedThroughTheCLI() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let codes = try randomMatrix(bits: 96, count: 600, seed: 31)
        let codesFile = dir.appending("codes.jsonl")
        try (0..<600).map { "{\"id\": \"p\($0)\", \"code\": \"\(codes[$0].hex)\"}" }.joined(separator: "\n")
            .write(toFile: codesFile, atomically: true, encoding: .utf8)
        let pg = try TestPostgres(pgvector: true); defer { pg.stop() }
        let url = pg.url + "#graph"
        #expect(try runTwentyQ(["index", "--codes", codesFile, "--db", url]).status == 0)
        let before = try runTwentyQ(["tables", "--db", url, "--json"])
        let beforeState = try parseJSONObject(before.stdout)
        #expect(before.status == 0 && beforeState["graph"] as? Bool == false, "\(before.stdout) \(before.stderr)")
        let noGraph = try runTwentyQ(["search", "--db", url, "--code", codes[7].hex, "--ef-search", "40"])
        #expect(noGraph.status != 0 && noGraph.stderr.contains("tables --db") && noGraph.stderr.contains("--graph"), "\(noGraph.stderr)")
        let built = try runTwentyQ(["tables", "--db", url, "--graph", "--m", "8", "--ef-construction", "32", "--json"])
        #expect(built.status == 0, "\(built.stderr)")
        let state = try parseJSONObject(built.stdout)
        #expect(state["graph"] as? Bool == true && state["m"] as? Int == 8 && state["ef_construction"] as? Int == 32 && state["count"] as? Int == 600, "\(state)")
        let info = try runTwentyQ(["info", "--db", url])
        #expect(info.status == 0 && info.stdout.contains("HNSW (pgvector), m 8, ef_construction 32"), "\(info.stdout) \(info.stderr)")
        let found = try runTwentyQ(["search", "--db", url, "--code", codes[7].hex, "--ef-search", "40", "-k", "5", "--json"])
        #expect(found.status == 0, "\(found.stderr)")
        let hits = try parseJSONObject(found.stdout)["results"] as? [[String: Any]] ?? []
        #expect(hits.count == 5 && hits.first?["id"] as? String == "p7" && hits.first?["distance"] as? Int == 0, "\(found.stdout)")
        for hit in hits {
            let n = Int((hit["id"] as! String).dropFirst())!
            #expect(hit["distance"] as? Int == HammingReference.distance(codes[n], codes[7]), "\(hit)")
        }
        // Refused, with the reason: a bad ef_search, the graph on an LMDB index, a radius search
        // through the graph, a graph with settings pgvector refuses.
        let bad = try runTwentyQ(["search", "--db", url, "--code", codes[7].hex, "--ef-search", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("--ef-search must be 1 to 1,000"), "\(bad.stderr)")
        let lmdb = try runTwentyQ(["search", "--db", dir.appending("none"), "--code", codes[7].hex, "--ef-search", "40"])
        #expect(lmdb.status != 0 && lmdb.stderr.contains("--ef-search goes with an index in PostgreSQL"), "\(lmdb.stderr)")
        let lmdbGraph = try runTwentyQ(["tables", "--db", dir.appending("none"), "--graph"])
        #expect(lmdbGraph.status != 0 && lmdbGraph.stderr.contains("--graph and --drop-graph go with an index in PostgreSQL"), "\(lmdbGraph.stderr)")
        let radius = try runTwentyQ(["search", "--db", url, "--code", codes[7].hex, "--ef-search", "40", "--radius", "3"])
        #expect(radius.status != 0 && radius.stderr.contains("a --radius search is exact"), "\(radius.stderr)")
        let badM = try runTwentyQ(["tables", "--db", url, "--graph", "--m", "40", "--ef-construction", "50"])
        #expect(badM.status != 0 && badM.stderr.contains("at least 2 x m"), "\(badM.stderr)")
        let dropped = try runTwentyQ(["tables", "--db", url, "--drop-graph", "--json"])
        let droppedState = try parseJSONObject(dropped.stdout)
        #expect(dropped.status == 0 && droppedState["graph"] as? Bool == false, "\(dropped.stdout) \(dropped.stderr)")
    }
}
