import Foundation
import TestSupport
import Testing
import TwentyQ

/// Through the real binary: words the model does not know still find their documents.
@Suite struct LexicalSearchCLITests {
    static func folder(_ dir: TemporaryDirectory) throws -> String {
        let words = ["space", "nasa", "orbit", "launch", "god", "church", "car", "engine", "hockey", "game", "disk", "windows"]
        var rng = SeededGenerator(seed: 12)
        let folder = dir.appending("docs")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 0..<60 {
            let text = (0..<12).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ")
            try text.write(toFile: folder + "/note\(i).txt", atomically: true, encoding: .utf8)
        }
        try "Build the manual: run xsltproc over the space docs, then valgrind memcheck on the launch tool."
            .write(toFile: folder + "/build.md", atomically: true, encoding: .utf8)
        return folder
    }

    @Test func aQueryNamingAnUnknownIdentifierFindsItsFileFirst() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let folder = try Self.folder(dir)
        let model = dir.appending("m.tqm"), db = dir.appending("idx")
        try ModelFile.write(randomModel(bits: 64, hidden: 32), to: model)
        let indexed = try runTwentyQ(["index", "--db", db, "--model", model, "--json", folder])
        #expect(indexed.status == 0, "\(indexed.stderr)")
        // Coverage: these files are mostly the model's words, so no warning; documents of words
        // it never saw get one that says what to do.
        let coverage = try #require(try parseJSONObject(indexed.stdout)["token_coverage"] as? Double)
        #expect(coverage >= 0.5 && !indexed.stderr.contains("warning"), "\(coverage) \(indexed.stderr)")
        let strange = dir.appending("strange.jsonl")
        try "{\"id\": \"s1\", \"text\": \"zyzzyva glorp snarf space\"}\n{\"id\": \"s2\", \"text\": \"quux frobnicate\"}\n"
            .write(toFile: strange, atomically: true, encoding: .utf8)
        let poor = try runTwentyQ(["index", "--db", dir.appending("strange"), "--model", model, "--json", strange])
        let poorCoverage = try parseJSONObject(poor.stdout)["token_coverage"] as? Double
        #expect(poor.status == 0 && poorCoverage == 1.0 / 6.0, "\(poor.stdout)")
        #expect(poor.stderr.contains("warning: the model knows 17% of the words") && poor.stderr.contains("twentyq train --corpus"), "\(poor.stderr)")
        for mode in ["bm25", "fused"] {
            // Known words and an identifier the model never saw.
            let mixed = try runTwentyQ(["search", "--db", db, "--rescore", mode, "-k", "3", "--json", "space launch xsltproc"])
            #expect(mixed.status == 0, "\(mixed.stderr)")
            let ids = (try parseJSONObject(mixed.stdout)["results"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids?.first == "build.md", "\(mode): \(mixed.stdout)")
            #expect(!mixed.stderr.contains("warning"))
        }
        // Only unknown words: a warning and the lexical match, never arbitrary documents.
        let unknown = try runTwentyQ(["search", "--db", db, "valgrind memcheck"])
        #expect(unknown.status == 0, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("warning: the model knows no word of this query"), "\(unknown.stderr)")
        let lines = unknown.stdout.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("build.md"), "\(unknown.stdout)")
        // Words nobody holds: a warning and no results.
        let nothing = try runTwentyQ(["search", "--db", db, "--json", "zyzzyva quuxification"])
        #expect(nothing.status == 0)
        #expect(nothing.stderr.contains("no document holds any of its words"), "\(nothing.stderr)")
        #expect((try parseJSONObject(nothing.stdout)["results"] as? [Any])?.isEmpty == true)
        // No word to search for at all (empty, stop words only): said so, no results.
        for text in ["", "the of and"] {
            let none = try runTwentyQ(["search", "--db", db, text])
            #expect(none.status == 0 && none.stdout == "no results\n", "\(none.stdout)")
            #expect(none.stderr.contains("this query has no word to search for: it is empty or holds only stop words"), "\(none.stderr)")
        }
        // The codes alone rank every document and read no term statistics.
        let codes = try runTwentyQ(["search", "--db", db, "--rescore", "none", "-k", "61", "--json", "space"])
        #expect((try parseJSONObject(codes.stdout)["results"] as? [[String: Any]])?.count == 61)
    }

    /// With query bits (`model project`), the codes alone find a word no vocabulary holds: the
    /// file naming it comes first under `--rescore none`, where no term statistics are read.
    @Test func queryBitsLetTheCodesAloneFindAnUnknownIdentifier() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let folder = try Self.folder(dir)
        let base = dir.appending("m.tqm"), model = dir.appending("q.tqm"), corpus = dir.appending("c.jsonl")
        try ModelFile.write(randomModel(bits: 64, hidden: 32), to: base)
        let texts = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { try String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
        try texts.enumerated().map { String(data: try JSONSerialization.data(withJSONObject: ["id": "\($0.offset)", "text": $0.element]), encoding: .utf8)! }
            .joined(separator: "\n").write(toFile: corpus, atomically: true, encoding: .utf8)
        let projected = try runTwentyQ(["model", "project", "--model", base, "--corpus", corpus, "--bits", "512", "--out", model])
        #expect(projected.status == 0 && projected.stderr.contains("64 trained + 512 query bits = 576 bits"), "\(projected.stderr)")
        let info = try parseJSONObject(try runTwentyQ(["model", "info", model, "--json"]).stdout)
        #expect(info["bits"] as? Int == 576 && info["trained_bits"] as? Int == 64 && info["query_bits"] as? Int == 512)

        let db = dir.appending("idx")
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, folder]).status == 0)
        for query in ["valgrind memcheck", "xsltproc"] {
            for feedback in ["0", "10"] {
                let r = try runTwentyQ(["search", "--db", db, "--rescore", "none", "--feedback", feedback, "-k", "3", "--json", query])
                #expect(r.status == 0, "\(r.stderr)")
                let ids = (try parseJSONObject(r.stdout)["results"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
                // The first round puts it first. Feedback (the default) mixes in the first round's
                // 10 best codes, here 1 relevant among 60 near-identical notes, which may pull a
                // note above it (docs/EVALUATION.md, "Query bits": the known-item risk of feedback).
                if feedback == "0" { #expect(ids.first == "build.md", "\(query): \(r.stdout)") } else { #expect(ids.contains("build.md"), "\(query): \(r.stdout)") }
            }
        }
        // Too many query bits for the code, and a missing corpus: refused, nothing written.
        let wide = try runTwentyQ(["model", "project", "--model", base, "--corpus", corpus, "--bits", "1000", "--out", dir.appending("w.tqm")])
        #expect(wide.status != 0 && wide.stderr.contains("at most 1024") && !FileManager.default.fileExists(atPath: dir.appending("w.tqm")), "\(wide.stderr)")
        let missing = try runTwentyQ(["model", "project", "--model", base, "--corpus", dir.appending("none.jsonl"), "--out", dir.appending("x.tqm")])
        #expect(missing.status != 0 && missing.stderr.contains("none.jsonl") && !FileManager.default.fileExists(atPath: dir.appending("x.tqm")), "\(missing.stderr)")
    }

    @Test func badRankingOptionsAreRefused() throws {
        for (args, message) in [(["--rescore", "best"], "--rescore"), (["--candidates", "0"], "--candidates"), (["--b", "1.5"], "--b"),
                                (["--feedback=-1"], "--feedback must be 0 (off)")] {
            let r = try runTwentyQ(["search"] + args + ["space"])
            #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        let r = try runTwentyQ(["search", "--vector", "1,2", "--rescore", "bm25"])
        #expect(r.status != 0 && r.stderr.contains("goes with text queries"), "\(r.stderr)")
    }

    /// `eval --docs --queries --qrels` on a tiny judged set: the measures of a perfect lexical
    /// match are 1 for BM25 (with and without feedback), and every method's line is there.
    @Test func evalMeasuresAJudgedCollection() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let docs = dir.appending("d.jsonl"), queries = dir.appending("q.jsonl"), qrels = dir.appending("qrels")
        try """
        {"id": "a", "text": "space shuttle launch from the pad"}
        {"id": "b", "text": "hockey game on ice"}
        {"id": "c", "text": "church and god"}
        {"id": "d", "text": "the engine of the car"}
        """.write(toFile: docs, atomically: true, encoding: .utf8)
        try """
        {"id": "q1", "text": "shuttle launch"}
        {"id": "q2", "text": "ice hockey"}
        """.write(toFile: queries, atomically: true, encoding: .utf8)
        try "q1 0 a 2\nq2 0 b 1\nq2 0 c 0\n".write(toFile: qrels, atomically: true, encoding: .utf8)
        let model = dir.appending("m.tqm")
        try ModelFile.write(randomModel(bits: 32, hidden: 16), to: model)
        let r = try runTwentyQ(["eval", "--docs", docs, "--queries", queries, "--qrels", qrels, "--model", model])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try r.stdout.split(separator: "\n").map { try parseJSONObject(String($0)) }
        let methods = lines.map { line in
            [line["method"] as? String, line["rescore"] as? String, (line["feedback_documents"] as? Int).map(String.init)].compactMap { $0 }.joined(separator: "/")
        }
        // Each mode with feedback (10 documents, the default) and without.
        #expect(methods == ["bm25-exhaustive", "tfidf-cosine", "twentyq/fused/10", "twentyq/fused/0", "twentyq/bm25/10", "twentyq/bm25/0", "twentyq/none/10", "twentyq/none/0"])
        for line in lines where (line["method"] as? String) != "twentyq" || (line["rescore"] as? String) == "bm25" {
            #expect(line["map_at_100"] as? Double == 1 && line["ndcg_at_10"] as? Double == 1, "\(line)")
            #expect(line["p_at_10"] as? Double == 0.1 && line["queries"] as? Int == 2)
        }
        #expect(lines.filter { ($0["method"] as? String) == "twentyq" }.allSatisfy { $0["k"] as? Int == 1000 })
        // -k: results per query, as `search -k`; one result is enough for BM25 here.
        let one = try runTwentyQ(["eval", "--docs", docs, "--queries", queries, "--qrels", qrels, "--model", model, "-k", "1", "--rescore", "bm25"])
        #expect(one.status == 0, "\(one.stderr)")
        let ranked = try one.stdout.split(separator: "\n").map { try parseJSONObject(String($0)) }.filter { ($0["method"] as? String) == "twentyq" }
        #expect(ranked.count == 2 && ranked.allSatisfy { $0["k"] as? Int == 1 && $0["map_at_100"] as? Double == 1 && $0["recall_at_1000"] as? Double == 1 })
    }
}

@Suite struct BenchQueryCLITests {
    /// `bench query` times the default pipeline and the codes alone on the same queries.
    @Test func benchQueryReportsBothPipelinesAndTheirRatio() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let folder = try LexicalSearchCLITests.folder(dir)
        let model = dir.appending("m.tqm"), db = dir.appending("idx"), queries = dir.appending("q.jsonl")
        try ModelFile.write(randomModel(bits: 64, hidden: 32), to: model)
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, folder]).status == 0)
        try (0..<30).map { "{\"id\": \"q\($0)\", \"text\": \"space orbit \($0)\"}" }.joined(separator: "\n")
            .write(toFile: queries, atomically: true, encoding: .utf8)
        let r = try runTwentyQ(["bench", "query", "--db", db, "--queries", queries, "--warmup", "5"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try parseJSONObject(r.stdout)
        #expect(o["queries"] as? Int == 25 && o["documents"] as? Int == 61 && o["pipeline"] as? String == "bm25")
        for key in ["pipeline_latency", "anchor_latency"] {
            let l = o[key] as? [String: Double]
            #expect((l?["p50_ms"] ?? 0) > 0 && (l?["p99_ms"] ?? 0) >= (l?["p50_ms"] ?? 0), "\(key): \(String(describing: l))")
        }
        #expect((o["p50_ratio"] as? Double ?? 0) > 0)
        let few = try runTwentyQ(["bench", "query", "--db", db, "--queries", queries, "--warmup", "40"])
        #expect(few.status != 0 && few.stderr.contains("give more than --warmup"), "\(few.stderr)")
    }
}
