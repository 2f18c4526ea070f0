import Encoder
import Foundation
import TestSupport
import Testing

/// Text documents indexed into a real PostgreSQL 15 through the real binary: the index keeps
/// its model and terms there, and `search` answers as it does on an LMDB index of the same
/// documents (an identifier the model never saw found first, a query of unknown words warned of
/// and answered lexically, a batch of queries equal).
@Suite struct PostgresTextCLITests {
    func ids(_ r: CLIResult) throws -> [String] {
        (try parseJSONObject(r.stdout)["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    @Test func documentsInPostgreSQLAreSearchedAsInLMDB() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let folder = try LexicalSearchCLITests.folder(dir)
        let model = dir.appending("m.tqm"), db = dir.appending("idx")
        try ModelFile.write(randomModel(bits: 64, hidden: 32), to: model)
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, folder]).status == 0)
        let pg = try TestPostgres(); defer { pg.stop() }
        let url = pg.url + "#notes"
        let indexed = try runTwentyQ(["index", "--db", url, "--model", model, "--batch", "25", "--json", folder])
        #expect(indexed.status == 0, "\(indexed.stderr)")
        let summary = try parseJSONObject(indexed.stdout)
        #expect(summary["added"] as? Int == 61 && summary["documents"] as? Int == 61, "\(summary)")
        // Again: nothing changed, and the model is the index's own (no --model needed).
        let again = try parseJSONObject(try runTwentyQ(["index", "--db", url, "--json", folder]).stdout)
        #expect(again["unchanged"] as? Int == 61 && again["added"] as? Int == 0, "\(again)")
        let info = try parseJSONObject(try runTwentyQ(["info", "--db", url, "--json"]).stdout)
        #expect(info["format"] as? Int == 2 && info["count"] as? Int == 61 && info["documents_with_terms"] as? Int == 61 && info["kind"] as? String == "documents", "\(info)")

        for mode in ["bm25", "fused", "none"] {
            let lmdb = try runTwentyQ(["search", "--db", db, "--rescore", mode, "-k", "8", "--json", "space launch xsltproc"])
            let sql = try runTwentyQ(["search", "--db", url, "--rescore", mode, "-k", "8", "--json", "space launch xsltproc"])
            #expect(sql.status == 0, "\(sql.stderr)")
            let (got, want) = (try ids(sql), try ids(lmdb))
            #expect(got == want && got.count == 8, "\(mode): \(sql.stdout) vs \(lmdb.stdout)")
            if mode != "none" { #expect(got.first == "build.md", "\(mode): \(sql.stdout)") }
        }
        // Through the graph only where there is one (this server has no pgvector).
        let noGraph = try runTwentyQ(["search", "--db", url, "--ef-search", "40", "space launch"])
        #expect(noGraph.status != 0 && noGraph.stderr.contains("has no HNSW graph"), "\(noGraph.stderr)")
        let unknown = try runTwentyQ(["search", "--db", url, "valgrind memcheck"])
        #expect(unknown.status == 0 && unknown.stderr.contains("warning: the model knows no word of this query"), "\(unknown.stderr)")
        let lines = unknown.stdout.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("build.md"), "\(unknown.stdout)")

        // A batch of queries: the same JSON lines as the LMDB index's.
        let queries = dir.appending("q.jsonl")
        try ["space orbit", "church god game", "disk windows engine", "hockey"].enumerated()
            .map { "{\"id\": \"q\($0.offset)\", \"text\": \"\($0.element)\"}" }.joined(separator: "\n")
            .write(toFile: queries, atomically: true, encoding: .utf8)
        let batchLMDB = try runTwentyQ(["search", "--db", db, "--queries", queries, "-k", "10"])
        let batchSQL = try runTwentyQ(["search", "--db", url, "--queries", queries, "-k", "10"])
        #expect(batchSQL.status == 0 && batchSQL.stdout == batchLMDB.stdout && batchSQL.stdout.split(separator: "\n").count == 4,
                "\(batchSQL.stdout) \(batchSQL.stderr)")

        // A JSONL file streamed into PostgreSQL (checked whole, then read again in batches that
        // cross its pieces) answers as the same file held in memory (ties go by id in
        // PostgreSQL, by slot in LMDB, so the two stores are not compared here: many tie).
        let words = ["space", "orbit", "church", "god", "disk", "engine", "hockey", "game", "window", "launch"]
        let jsonl = dir.appending("docs.jsonl")
        try (0..<40).map { i in "{\"id\": \"j\(i)\", \"text\": \"\((0..<6).map { words[($0 * 3 + i * 7 + i / 4) % words.count] }.joined(separator: " ")) n\(i)\"}" }
            .joined(separator: "\n").write(toFile: jsonl, atomically: true, encoding: .utf8)
        #expect(try runTwentyQ(["index", "--db", pg.url + "#held", "--model", model, "--batch", "7", jsonl]).status == 0)
        let streamed = try runTwentyQ(["index", "--db", pg.url + "#streamed", "--model", model, "--batch", "7", "--stream-over", "0", "--json", jsonl])
        let streamedSummary = try parseJSONObject(streamed.stdout)
        #expect(streamed.status == 0 && streamedSummary["added"] as? Int == 40, "\(streamed.stderr)")
        let heldAnswers = try runTwentyQ(["search", "--db", pg.url + "#held", "--queries", queries, "-k", "10"])
        let streamedAnswers = try runTwentyQ(["search", "--db", pg.url + "#streamed", "--queries", queries, "-k", "10"])
        #expect(streamedAnswers.status == 0 && streamedAnswers.stdout == heldAnswers.stdout && heldAnswers.stdout.contains("j"),
                "\(streamedAnswers.stdout) \(streamedAnswers.stderr)")

        // `copy` moves a text index with its terms and model, both ways: each copy answers text
        // queries as the source does.
        let copied = try runTwentyQ(["copy", "--from", db, "--to", pg.url, "--name", "copied", "--batch", "20", "--json"])
        let copiedSummary = try parseJSONObject(copied.stdout)
        #expect(copied.status == 0 && copiedSummary["added"] as? Int == 61, "\(copied.stdout) \(copied.stderr)")
        let batchCopy = try runTwentyQ(["search", "--db", pg.url + "#copied", "--queries", queries, "-k", "10"])
        #expect(batchCopy.status == 0 && batchCopy.stdout == batchLMDB.stdout, "\(batchCopy.stdout) \(batchCopy.stderr)")
        let back = dir.appending("back")
        let home = try runTwentyQ(["copy", "--from", pg.url, "--name", "copied", "--to", back, "--batch", "15", "--json"])
        #expect(home.status == 0, "\(home.stderr)")
        let batchBack = try runTwentyQ(["search", "--db", back, "--queries", queries, "-k", "10"])
        #expect(batchBack.status == 0 && batchBack.stdout == batchLMDB.stdout, "\(batchBack.stdout) \(batchBack.stderr)")
        let checked = try runTwentyQ(["check", "--db", back])
        #expect(checked.status == 0, "\(checked.stdout) \(checked.stderr)")

        // Removed documents leave the lexical stage too.
        #expect(try runTwentyQ(["remove", "--db", url, "build.md"]).status == 0)
        let gone = try runTwentyQ(["search", "--db", url, "--json", "valgrind memcheck"])
        let left = try ids(gone)
        #expect(left.isEmpty && gone.stderr.contains("no document holds any of its words"), "\(gone.stdout) \(gone.stderr)")
        // U+0000, which PostgreSQL cannot store: in a text it is left out of the snippet; in a
        // field it is refused, naming the field and the document, and nothing is written.
        let nul = dir.appending("nul.jsonl")
        try "{\"id\": \"z1\", \"text\": \"space \\u0000 nul\"}\n{\"id\": \"z2\", \"text\": \"fine\", \"note\": \"a\\u0000b\"}\n"
            .write(toFile: nul, atomically: true, encoding: .utf8)
        let refused = try runTwentyQ(["index", "--db", url, nul])
        #expect(refused.status != 0 && refused.stderr.contains("field 'note' of 'z2'") && refused.stderr.contains("U+0000"), "\(refused.stderr)")
        try "{\"id\": \"z1\", \"text\": \"space \\u0000 nul\"}\n".write(toFile: nul, atomically: true, encoding: .utf8)
        let kept = try runTwentyQ(["index", "--db", url, "--json", nul])
        let keptSummary = try parseJSONObject(kept.stdout)
        #expect(kept.status == 0 && keptSummary["added"] as? Int == 1, "\(kept.stdout) \(kept.stderr)")
        // Another model for an existing index is refused, naming both.
        let other = dir.appending("other.tqm")
        try ModelFile.write(randomModel(bits: 64, hidden: 32, seed: 99), to: other)
        let mismatch = try runTwentyQ(["index", "--db", url, "--model", other, folder])
        #expect(mismatch.status != 0 && mismatch.stderr.contains("model"), "\(mismatch.stderr)")
    }
}
