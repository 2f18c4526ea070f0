import Foundation
import TestSupport
import Testing
import TwentyQ

/// Issue #16, H1-H3: creating an index is all or nothing, and two creators serialise.
@Suite struct IndexCreationCLITests {
    static func corpus(_ dir: TemporaryDirectory, count: Int = 300) throws -> (corpus: String, model: String) {
        let words = ["space", "orbit", "god", "church", "car", "engine", "hockey", "game"]
        var rng = SeededGenerator(seed: 4)
        let lines = (0..<count).map { i in
            "{\"id\": \"d\(i)\", \"text\": \"" + (0..<5).map { _ in words[Int(rng.next() % 8)] }.joined(separator: " ") + "\"}"
        }
        let corpus = dir.appending("c.jsonl"), model = dir.appending("m.tqm")
        try lines.joined(separator: "\n").write(toFile: corpus, atomically: true, encoding: .utf8)
        try ModelFile.write(randomModel(bits: 64, hidden: 32), to: model)
        return (corpus, model)
    }

    /// H1: SIGKILL at every stage of a first `index` (the kill follows each of a growing number
    /// of steps of the process): afterwards there is no index at the path or a whole one, never
    /// a half-made one, and a rerun always finishes.
    @Test func aKillWhileCreatingLeavesNothingOrAWholeIndex() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let (corpus, model) = try Self.corpus(dir)
        for round in 0..<12 {
            let db = dir.appending("idx\(round)")
            let indexer = try startTwentyQ(["index", "--db", db, "--model", model, corpus])
            // Let it run `round` short steps (stopped and resumed, nothing read while it is
            // stopped), then kill it where it stands.
            for _ in 0..<round { guard indexer.suspend() else { break }; indexer.resume() }
            indexer.killNow()
            if FileManager.default.fileExists(atPath: db) {
                let index = try DocumentIndex.open(at: db, readOnly: true)
                #expect(try index.count % 2000 == 0 || (try index.count) == 300, "round \(round)")
            }
            let rerun = try runTwentyQ(["index", "--db", db, "--model", model, corpus, "--json"])
            #expect(rerun.status == 0, "round \(round): \(rerun.stderr)")
            #expect(try parseJSONObject(rerun.stdout)["documents"] as? Int == 300)
        }
        // No staging directory of a finished or killed creation is left once a later one ran.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".creating-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// H2: a first `index` that fails on its input leaves no index behind.
    @Test func aFailedFirstIndexLeavesNothing() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let (_, model) = try Self.corpus(dir)
        let long = String(repeating: "x", count: 600)
        for (line, message) in [("{\"id\": \"\", \"text\": \"space\"}", "must not be empty"),
                                ("{\"id\": \"\(long)\", \"text\": \"space\"}", "at most 511 bytes")] {
            try ("{\"id\": \"ok\", \"text\": \"car\"}\n" + line + "\n").write(toFile: dir.appending("bad.jsonl"), atomically: true, encoding: .utf8)
            let r = try runTwentyQ(["index", "--db", dir.appending("idx"), "--model", model, dir.appending("bad.jsonl")])
            #expect(r.status != 0 && !r.signaled && r.stderr.contains(message), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appending("idx")))
        }
        try "not a model".write(toFile: dir.appending("bad.tqm"), atomically: true, encoding: .utf8)
        try "{\"id\": \"ok\", \"text\": \"car\"}\n".write(toFile: dir.appending("ok.jsonl"), atomically: true, encoding: .utf8)
        let r = try runTwentyQ(["index", "--db", dir.appending("idx"), "--model", dir.appending("bad.tqm"), dir.appending("ok.jsonl")])
        #expect(r.status != 0 && !r.signaled)
        #expect(!FileManager.default.fileExists(atPath: dir.appending("idx")))
    }

    /// H3: two writers started together on a new directory both succeed, one after the other.
    @Test func twoWritersOnANewDirectorySerialise() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let (corpus, model) = try Self.corpus(dir)
        for round in 0..<4 {
            let db = dir.appending("idx\(round)")
            let a = try startTwentyQ(["index", "--db", db, "--model", model, corpus])
            let b = try startTwentyQ(["index", "--db", db, "--model", model, corpus])
            let (ra, rb) = (a.finish(), b.finish())
            #expect(ra.status == 0 && rb.status == 0, "round \(round): \(ra.stderr) | \(rb.stderr)")
            #expect(try DocumentIndex.open(at: db, readOnly: true).count == 300)
        }
    }
}
