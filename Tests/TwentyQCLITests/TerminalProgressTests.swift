import Foundation
import TestSupport
import Testing

/// On a terminal, long commands say what they are doing from the start: run through `script`
/// (util-linux), which gives the binary a real pseudo-terminal. In a pipe they stay silent.
@Suite struct TerminalProgressTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fortunes-200.jsonl").path

    /// `script -qec COMMAND /dev/null`: the command's terminal output (stdout and stderr mixed).
    func onTerminal(_ arguments: [String]) throws -> CLIResult {
        let command = ([try twentyqBinary()] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try runShell("script -qec \"\(command)\" /dev/null")
    }

    @Test func evalTablesAndTrainSayWhatTheyDoOnATerminalAndNothingInAPipe() throws {
        guard try runShell("command -v script").status == 0 else { Issue.record("script (util-linux) is missing"); return }
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        // A tiny judged collection: the fortunes, three queries made of their own words.
        let docs = try String(contentsOfFile: Self.fixture, encoding: .utf8).split(separator: "\n").prefix(60)
        try docs.joined(separator: "\n").write(toFile: dir.appending("docs.jsonl"), atomically: true, encoding: .utf8)
        let ids = try docs.map { try parseJSONObject(String($0))["id"] as? String ?? "" }
        try (0..<3).map { #"{"id": "q\#($0)", "text": "life and love"}"# }.joined(separator: "\n")
            .write(toFile: dir.appending("queries.jsonl"), atomically: true, encoding: .utf8)
        try (0..<3).map { "q\($0) 0 \(ids[$0 * 7]) 1" }.joined(separator: "\n").write(toFile: dir.appending("qrels"), atomically: true, encoding: .utf8)
        let eval = ["eval", "--docs", dir.appending("docs.jsonl"), "--queries", dir.appending("queries.jsonl"), "--qrels", dir.appending("qrels")]
        let shown = try onTerminal(eval)
        #expect(shown.status == 0, "\(shown.stdout)")
        #expect(shown.stdout.contains("indexing 60 documents ...") && shown.stdout.contains("searching: --rescore bm25, 3 queries ..."), "\(shown.stdout)")
        let piped = try runTwentyQ(eval)
        #expect(piped.status == 0 && !piped.stderr.contains("indexing"), "\(piped.stderr)")

        let db = dir.appending("idx")
        #expect(try runTwentyQ(["index", "--db", db, dir.appending("docs.jsonl")]).status == 0)
        let tables = try onTerminal(["tables", "--db", db, "--enable", "--min-count", "10"])
        #expect(tables.status == 0 && tables.stdout.contains("building the multi-index tables over 60 codes ..."), "\(tables.stdout)")

        let train = ["train", "--corpus", dir.appending("docs.jsonl"), "--bits", "16", "--epochs", "1", "--out", dir.appending("m.tqm")]
        let training = try onTerminal(train)
        #expect(training.status == 0 && training.stdout.contains("reading \(dir.appending("docs.jsonl")) ..."), "\(training.stdout)")
        let trainingPiped = try runTwentyQ(train)
        #expect(trainingPiped.status == 0 && !trainingPiped.stderr.contains("reading"), "\(trainingPiped.stderr)")
    }
}
