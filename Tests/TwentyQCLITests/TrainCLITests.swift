import Foundation
import TestSupport
import Testing
import TwentyQ

/// `train`, `model info`, `model explain` and `bench encode` through the real binary, on a
/// committed fixture of 200 fortunes.
@Suite struct TrainCLITests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fortunes-200.jsonl").path

    func train(_ out: String, seed: Int = 7, extra: [String] = []) throws -> CLIResult {
        try runTwentyQ(["train", "--corpus", Self.fixture, "--bits", "32", "--weights", "ternary", "--epochs", "3",
                        "--hidden", "32", "--vocabulary", "500", "--neighbors", "5", "--seed", "\(seed)", "--out", out, "--json"] + extra)
    }

    /// OpenBLAS is loaded when training starts, never linked: the commands that do not train
    /// start without it, and a missing library is a clear error, not a loader failure.
    @Test func openBLASIsLoadedOnlyByTraining() throws {
        let binary = try twentyqBinary()
        let ldd = try runShell("ldd '\(binary)'")
        #expect(ldd.status == 0 && ldd.stdout.contains("liblmdb"), "\(ldd.stdout)\(ldd.stderr)")
        #expect(!ldd.stdout.contains("openblas"), "\(ldd.stdout)")

        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = dir.appending("m.tqm")
        let missing = try runShell("TWENTYQ_OPENBLAS=\(dir.appending("no-such-libopenblas.so")) '\(binary)' train --corpus '\(Self.fixture)' "
                                   + "--bits 32 --epochs 1 --hidden 16 --vocabulary 200 --out '\(model)'")
        #expect(missing.status == 1 && !missing.signaled, "\(missing.status) \(missing.stderr)")
        #expect(missing.stderr.contains("OpenBLAS is needed for training") && missing.stderr.contains("TWENTYQ_OPENBLAS"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: model))
        #expect(try train(model).status == 0)
    }

    @Test func trainWritesAModelThatInfoExplainAndBenchRead() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = dir.appending("m.tqm")
        let result = try train(model)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("epoch 3/3"))
        let summary = try parseJSONObject(result.stdout)
        #expect(summary["bits"] as? Int == 32 && summary["documents"] as? Int == 200)

        let info = try parseJSONObject(try runTwentyQ(["model", "info", model, "--json"]).stdout)
        #expect(info["bits"] as? Int == 32 && info["weights"] as? String == "ternary" && info["hidden"] as? Int == 32)
        #expect((info["layers"] as? [[String: Any]])?.first?["bits_per_weight"] as? Int == 2)

        let explain = try runTwentyQ(["model", "explain", model, "--bit", "5", "--top", "4", "--json"])
        #expect(explain.status == 0)
        let bit = try parseJSONObject(explain.stdout)
        #expect(bit["bit"] as? Int == 5)
        #expect(((bit["yes"] as? [Any])?.count ?? 0) + ((bit["no"] as? [Any])?.count ?? 0) > 0)

        let bench = try runTwentyQ(["bench", "encode", "--corpus", Self.fixture, "--model", model, "--runs", "1", "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        #expect((try parseJSONObject(bench.stdout)["docs_per_second"] as? Double ?? 0) > 0)
    }

    /// `index --train`: one step from documents to an index with their own model, with progress
    /// and a comparison with the shipped model on the same documents.
    @Test func indexTrainMakesAnIndexWithItsOwnModel() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = dir.appending("idx"), saved = dir.appending("own.tqm")
        let r = try runTwentyQ(["index", "--train", "--train-epochs", "2", "--save-model", saved, "--db", db, "--json", Self.fixture])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("training a model on 200 documents") && r.stderr.contains("epoch 2/2"), "\(r.stderr)")
        // Each stage before the epochs is told as it begins, in order, with the seconds so far.
        let stages = ["s  terms of 200 texts and the vocabulary", "s  nearest-neighbour graph of", "s  257 leading eigenvectors",
                      "s  ITQ rotation", "s  2 epochs", "epoch 1/2"].map { r.stderr.range(of: $0)?.lowerBound }
        #expect(stages.allSatisfy { $0 != nil } && zip(stages, stages.dropFirst()).allSatisfy { $0! < $1! }, "\(r.stderr)")
        let summary = try parseJSONObject(r.stdout)
        #expect(summary["added"] as? Int == 200)
        let own = try #require(summary["own_model"] as? [String: Any])
        #expect((own["queries"] as? Int ?? 0) > 100 && own["pool"] as? Int == 200, "\(own)")
        for key in ["coverage", "default_coverage", "first_line_found_at_10", "default_first_line_found_at_10"] {
            let value = try #require(own[key] as? Double, "\(key)")
            #expect(value > 0 && value <= 1, "\(key) = \(value)")
        }
        // The index carries the trained model (not the shipped one), the same as the saved file.
        let stored = try DocumentIndex.open(at: db, readOnly: true).modelFingerprint
        #expect(stored == (try ModelFile.fingerprint(try ModelFile.read(saved))))
        #expect(stored != (try ModelFile.fingerprint(try DefaultModel.load())))
        #expect(try runTwentyQ(["search", "--db", db, "-k", "3", "love"]).status == 0)
        // The probe is what `search --rescore none` answers: every one of the 200 documents is
        // queried by its first line's first 8 words (all are in the pool), and the share found
        // among the first 10 is the share that the real search of the same queries finds.
        let queries = try String(contentsOfFile: Self.fixture, encoding: .utf8).split(separator: "\n").map { line -> String in
            let d = try parseJSONObject(String(line))
            let text = d["text"] as? String ?? ""
            let first = text.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) } ?? ""
            let words = first.split(whereSeparator: \.isWhitespace).prefix(8).joined(separator: " ")
            return String(decoding: try JSONSerialization.data(withJSONObject: ["id": d["id"] as? String ?? "", "text": words]), as: UTF8.self)
        }
        try (queries.joined(separator: "\n") + "\n").write(toFile: dir.appending("q.jsonl"), atomically: true, encoding: .utf8)
        let answered = try runTwentyQ(["search", "--db", db, "--queries", dir.appending("q.jsonl"), "-k", "10", "--rescore", "none", "--json"])
        #expect(answered.status == 0, "\(answered.stderr)")
        let found = try answered.stdout.split(separator: "\n").filter { line in
            let answer = try parseJSONObject(String(line))
            return (answer["results"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == answer["query_id"] as? String }
        }.count
        #expect(own["queries"] as? Int == 200 && own["first_line_found_at_10"] as? Double == Double(found) / 200, "\(own), \(found)")
        // A new model needs a new index; --train and --model exclude each other.
        let again = try runTwentyQ(["index", "--train", "--train-epochs", "1", "--db", db, Self.fixture])
        #expect(again.status != 0 && again.stderr.contains("already holds an index"), "\(again.stderr)")
        let both = try runTwentyQ(["index", "--train", "--model", saved, "--db", dir.appending("other"), Self.fixture])
        #expect(both.status == 64 && both.stderr.contains("--train or --model"), "\(both.stderr)")
    }

    /// `index --train --train-sample N` trains on N evenly spaced documents (read again from a
    /// streamed file) and indexes all: its codes are those of a model trained, the same way, on
    /// a file of just those documents. A model trained here that knows few of the words says
    /// why, instead of advising to train one.
    @Test func indexTrainSamplesEvenlySpacedDocuments() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let lines = try String(contentsOfFile: Self.fixture, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 200)
        let picked = stride(from: 0, to: 200, by: 20).map { String(lines[$0]) }
        try (picked.joined(separator: "\n") + "\n").write(toFile: dir.appending("picked.jsonl"), atomically: true, encoding: .utf8)
        let sampled = try runTwentyQ(["index", "--train", "--train-epochs", "1", "--train-sample", "10", "--stream-over", "0",
                                      "--db", dir.appending("sampled"), "--json", Self.fixture])
        #expect(sampled.status == 0, "\(sampled.stderr)")
        #expect(sampled.stderr.contains("training a model on 10 of 200 documents (evenly spaced; --train-sample)"), "\(sampled.stderr)")
        #expect(sampled.stderr.contains("warning: the model trained on these documents knows") && !sampled.stderr.contains("twentyq train --corpus"),
                "\(sampled.stderr)")
        let summary = try parseJSONObject(sampled.stdout)
        #expect(summary["added"] as? Int == 200 && (summary["own_model"] as? [String: Any])?["pool"] as? Int == 10, "\(summary)")
        let model = dir.appending("picked.tqm")
        #expect(try runTwentyQ(["index", "--train", "--train-epochs", "1", "--save-model", model, "--db", dir.appending("picked"),
                                dir.appending("picked.jsonl")]).status == 0)
        #expect(try runTwentyQ(["index", "--model", model, "--db", dir.appending("whole"), Self.fixture]).status == 0)
        func codes(_ db: String) throws -> [String: [UInt64]] {
            var out: [String: [UInt64]] = [:]
            try DocumentIndex.open(at: dir.appending(db), readOnly: true).forEachDocument { out[$0.id] = $0.code.words; return true }
            return out
        }
        let fromSample = try codes("sampled"), fromPicked = try codes("whole")
        #expect(fromSample.count == 200 && fromSample == fromPicked)
        let zero = try runTwentyQ(["index", "--train", "--train-sample", "0", "--db", dir.appending("zero"), Self.fixture])
        #expect(zero.status == 64 && zero.stderr.contains("--train-sample must be at least 1 (got 0)"), "\(zero.stderr)")
        // Too few documents to train on: said in index's words, and no index is made.
        let one = try runTwentyQ(["index", "--train", "--train-sample", "1", "--db", dir.appending("one"), Self.fixture])
        #expect(one.status == 65 && one.stderr.contains("too few documents to train a model on")
                && one.stderr.contains("leave out --train") && one.stderr.contains("a larger --train-sample"), "\(one.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appending("one")))
    }

    @Test func theSameSeedGivesTheSameFileAndAnotherSeedDoesNot() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        for (name, seed) in [("a", 7), ("b", 7), ("c", 8)] {
            #expect(try train(dir.appending("\(name).tqm"), seed: seed).status == 0)
        }
        let a = try Data(contentsOf: URL(fileURLWithPath: dir.appending("a.tqm")))
        #expect(a == (try Data(contentsOf: URL(fileURLWithPath: dir.appending("b.tqm")))))
        #expect(a != (try Data(contentsOf: URL(fileURLWithPath: dir.appending("c.tqm")))))
    }

    @Test func badCorporaAndModelsAreNamed() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var r = try runTwentyQ(["train", "--corpus", dir.appending("missing.jsonl"), "--out", dir.appending("m.tqm")])
        #expect(r.status != 0 && r.stderr.contains("cannot read"))

        let bad = dir.appending("bad.jsonl")
        try "{\"id\": 1, \"text\": \"fine\"}\n{not json}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        r = try runTwentyQ(["train", "--corpus", bad, "--out", dir.appending("m.tqm")])
        #expect(r.status != 0 && r.stderr.contains("bad.jsonl:2: not a JSON object"), "\(r.stderr)")

        let noText = dir.appending("notext.jsonl")
        try "{\"id\": 1, \"body\": \"fine\"}\n".write(toFile: noText, atomically: true, encoding: .utf8)
        r = try runTwentyQ(["train", "--corpus", noText, "--out", dir.appending("m.tqm")])
        #expect(r.status != 0 && r.stderr.contains("no string field \"text\""))

        r = try runTwentyQ(["train", "--corpus", Self.fixture, "--weights", "int3", "--out", dir.appending("m.tqm")])
        #expect(r.status != 0 && r.status == 64 && r.stderr.contains("Please provide one of 'float'"))
        r = try runTwentyQ(["train", "--corpus", Self.fixture, "--weight-decay=-1", "--out", dir.appending("m.tqm")])
        #expect(r.status != 0 && r.stderr.contains("--weight-decay must be zero or positive"), "\(r.stderr)")
        r = try runTwentyQ(["train", "--corpus", Self.fixture, "--init-scale", "0", "--out", dir.appending("m.tqm")])
        #expect(r.status != 0 && r.stderr.contains("--init-scale must be a positive number"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appending("m.tqm")))

        let model = dir.appending("m.tqm")
        #expect(try train(model).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: dir.appending("cut.tqm")))
        r = try runTwentyQ(["model", "info", dir.appending("cut.tqm")])
        #expect(r.status != 0 && r.stderr.contains("is truncated"))
        try Data("plain text".utf8).write(to: URL(fileURLWithPath: dir.appending("text.tqm")))
        r = try runTwentyQ(["model", "info", dir.appending("text.tqm")])
        #expect(r.status != 0 && r.stderr.contains("is not a TwentyQ model"))
        r = try runTwentyQ(["model", "explain", model, "--bit", "32"])
        #expect(r.status != 0 && r.stderr.contains("out of range"))
    }
}
