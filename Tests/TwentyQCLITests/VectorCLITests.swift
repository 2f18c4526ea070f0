import Foundation
import TestSupport
import Testing
import TwentyQ

/// `train --vectors`, `index --vectors`, `search --vector/--queries-vectors` through the real
/// binary, on seeded clustered vectors written as .npy and .fvecs files.
@Suite struct VectorCLITests {
    static let data = clusteredVectors(count: 300, dimensions: 24, seed: 31)

    func write(_ set: VectorSet, _ path: String, fvecs: Bool = false) throws {
        try Data(fvecs ? VectorFile.fvecsBytes(set) : VectorFile.npyBytes(set)).write(to: URL(fileURLWithPath: path))
    }

    @Test func trainIndexAndSearchVectors() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let data = dir.appending("data.npy"), model = dir.appending("m.tqm"), db = dir.appending("idx")
        try write(Self.data, data)
        let trained = try runTwentyQ(["train", "--vectors", data, "--bits", "32", "--steps", "40", "--anchors", "32", "--out", model, "--json"])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stderr.contains("step 40/40"))
        let summary = try parseJSONObject(trained.stdout)
        #expect(summary["method"] as? String == "trained" && summary["weights"] as? String == "ternary" && summary["dimensions"] as? Int == 24)
        let info = try parseJSONObject(try runTwentyQ(["model", "info", model, "--json"]).stdout)
        #expect(info["kind"] as? String == "vectors" && info["bits"] as? Int == 32)
        // Two low-bit layers by default (2 x 24 hidden); --vector-hidden 0 gives one layer, and bad widths are named.
        #expect(summary["hidden"] as? Int == 48 && info["hidden"] as? Int == 48)
        #expect(try runTwentyQ(["model", "info", model]).stdout.contains("24 dimensions (L2-normalised) -> 48 hidden"))
        let oneLayer = dir.appending("one.tqm")
        let single = try runTwentyQ(["train", "--vectors", data, "--bits", "32", "--steps", "5", "--vector-hidden", "0", "--out", oneLayer, "--json"])
        #expect(single.status == 0, "\(single.stderr)")
        #expect(try parseJSONObject(single.stdout)["hidden"] as? Int == 0)
        #expect(try runTwentyQ(["model", "info", oneLayer]).stdout.contains("-> 32 bits, one linear layer"))
        for bad in ["-3", "wide"] {
            let r = try runTwentyQ(["train", "--vectors", data, "--vector-hidden=\(bad)", "--out", dir.appending("bad.tqm")])
            #expect(r.status != 0 && r.stderr.contains("--vector-hidden must be auto, 0 (one layer) or a width"), "\(r.stderr)")
        }

        let indexed = try runTwentyQ(["index", "--db", db, "--vectors", data, "--model", model, "--store-vectors", "int8", "--batch", "128", "--json"])
        #expect(indexed.status == 0, "\(indexed.stderr)")
        let report = try parseJSONObject(indexed.stdout)
        #expect(report["added"] as? Int == 300 && report["stored_vectors"] as? String == "int8")
        let indexInfo = try parseJSONObject(try runTwentyQ(["info", "--db", db, "--json"]).stdout)
        #expect(indexInfo["kind"] as? String == "vectors" && indexInfo["dimensions"] as? Int == 24 && indexInfo["stored_vectors"] as? String == "int8")

        // Batch queries: rows 0..<5 of the data as an fvecs file; each finds itself first.
        let queries = dir.appending("q.fvecs")
        try write(VectorSet(dimensions: 24, values: Array(Self.data.values[0 ..< 5 * 24])), queries, fvecs: true)
        let batch = try runTwentyQ(["search", "--db", db, "--queries-vectors", queries, "-k", "4"])
        #expect(batch.status == 0, "\(batch.stderr)")
        let lines = batch.stdout.split(separator: "\n").map { try! parseJSONObject(String($0)) }
        #expect(lines.count == 5)
        for (row, line) in lines.enumerated() {
            #expect(line["query_id"] as? Int == row)
            let results = line["results"] as! [[String: Any]]
            #expect(results.count == 4 && results[0]["id"] as? String == String(row))
            #expect(results.allSatisfy { $0["distance"] is Int && $0["score"] is Double })
        }
        let plain = try runTwentyQ(["search", "--db", db, "--queries-vectors", queries, "-k", "4", "--rescore", "none"])
        #expect(plain.stdout.split(separator: "\n").allSatisfy { !$0.contains("score") })
        // Rescoring the Hamming-nearest alone (--shortlist 1) still finds each stored vector first.
        let hammingOnly = try runTwentyQ(["search", "--db", db, "--queries-vectors", queries, "-k", "4", "--shortlist", "1"])
        #expect(hammingOnly.status == 0, "\(hammingOnly.stderr)")
        for (row, line) in hammingOnly.stdout.split(separator: "\n").enumerated() {
            #expect(((try parseJSONObject(String(line)))["results"] as! [[String: Any]])[0]["id"] as? String == String(row))
        }
        let zero = try runTwentyQ(["search", "--db", db, "--queries-vectors", queries, "--shortlist", "0"])
        #expect(zero.status != 0 && zero.stderr.contains("--shortlist must be at least 1"), "\(zero.stderr)")

        // One query given inline (first value negative: --vector=...).
        var q = Self.data.row(7)
        q[0] = -abs(q[0])
        let one = try runTwentyQ(["search", "--db", db, "--vector=" + q.map { "\($0)" }.joined(separator: ","), "-k", "3"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout.contains("score="))

        // Export: every vector as stored (int8, so within half a step of its scale).
        let exported = try runTwentyQ(["export", "--db", db, "--vectors"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let rows = exported.stdout.split(separator: "\n").map { try! parseJSONObject(String($0)) }
        #expect(rows.count == 300)
        let row3 = try #require(rows.first { $0["id"] as? String == "3" })
        let vector = try #require(row3["vector"] as? [Double])
        let original = Self.data.row(3), step = Double(original.map(abs).max()!) / 127
        #expect(vector.count == 24 && zip(vector, original).allSatisfy { abs($0 - Double($1)) <= step / 2 + 1e-6 })
        #expect(try runTwentyQ(["export", "--db", db]).stdout.contains("\"vector\"") == false)

        // Text commands refuse a vector index, and vector search refuses a short vector.
        let text = try runTwentyQ(["search", "--db", db, "hello"])
        #expect(text.status != 0 && text.stderr.contains("holds vectors"))
        let short = try runTwentyQ(["search", "--db", db, "--vector", "1,2,3"])
        #expect(short.status != 0 && short.stderr.contains("24-dimensional"))
    }

    @Test func badVectorFilesAreNamedAndWriteNothing() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = dir.appending("idx"), model = dir.appending("m.tqm")
        let data = dir.appending("data.fvecs")
        try write(Self.data, data, fvecs: true)
        #expect(try runTwentyQ(["train", "--vectors", data, "--method", "itq", "--bits", "16", "--out", model]).status == 0)
        #expect(try runTwentyQ(["index", "--db", db, "--vectors", data, "--model", model]).status == 0)

        var nan = Self.data
        nan.values[2 * 24 + 5] = .nan
        try write(nan, dir.appending("nan.fvecs"), fvecs: true)
        var r = try runTwentyQ(["index", "--db", db, "--vectors", dir.appending("nan.fvecs")])
        #expect(r.status != 0 && r.stderr.contains("row 2: value 5 is NaN or infinite"), "\(r.stderr)")

        try write(VectorSet(dimensions: 12, values: Array(Self.data.values[0 ..< 120])), dir.appending("short.npy"))
        r = try runTwentyQ(["index", "--db", db, "--vectors", dir.appending("short.npy")])
        #expect(r.status != 0 && r.stderr.contains("12 dimensions, expected 24"), "\(r.stderr)")

        let bytes = VectorFile.fvecsBytes(Self.data)
        try Data(bytes.dropLast(10)).write(to: URL(fileURLWithPath: dir.appending("cut.fvecs")))
        r = try runTwentyQ(["index", "--db", db, "--vectors", dir.appending("cut.fvecs")])
        #expect(r.status != 0 && r.stderr.contains("truncated in row 299"), "\(r.stderr)")

        try "a\nb\n".write(toFile: dir.appending("ids.txt"), atomically: true, encoding: .utf8)
        r = try runTwentyQ(["index", "--db", db, "--vectors", data, "--ids", dir.appending("ids.txt")])
        #expect(r.status != 0 && r.stderr.contains("2 ids for 300 vectors"), "\(r.stderr)")

        try Data().write(to: URL(fileURLWithPath: dir.appending("empty.npy")))
        r = try runTwentyQ(["index", "--db", db, "--vectors", dir.appending("empty.npy")])
        #expect(r.status != 0 && r.stderr.contains("holds no vectors"), "\(r.stderr)")

        r = try runTwentyQ(["train", "--vectors", data, "--method", "sign", "--bits", "16", "--out", model])
        #expect(r.status != 0 && r.stderr.contains("--bits must be 24"), "\(r.stderr)")

        r = try runTwentyQ(["index", "--db", dir.appending("other"), "--vectors", data])
        #expect(r.status != 0 && r.stderr.contains("needs a vector model"), "\(r.stderr)")
        // A bad file given for a new index creates nothing.
        r = try runTwentyQ(["index", "--db", dir.appending("new"), "--vectors", dir.appending("short.npy"), "--model", model])
        #expect(r.status != 0 && r.stderr.contains("12 dimensions, expected 24"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appending("new")))

        // Nothing of the refused files reached the index.
        let info = try parseJSONObject(try runTwentyQ(["info", "--db", db, "--json"]).stdout)
        #expect(info["count"] as? Int == 300)
    }

    @Test func evalVectorsReportsRecallForEveryMethod() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let data = dir.appending("db.npy"), queries = dir.appending("q.npy")
        try write(Self.data, data)
        try write(clusteredVectors(count: 20, dimensions: 24, seed: 32), queries)
        let r = try runTwentyQ(["eval-vectors", "--database", data, "--queries", queries, "--bits", "16,24",
                                "--methods", "sign,rotation,itq,trained", "--oversample", "2", "--storage", "int8",
                                "--steps", "20", "--anchors", "32", "--train-vectors", data])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map { try! parseJSONObject(String($0)) }
        // 16 bits: rotation, itq, trained; 24 bits (= dimensions): sign too.
        #expect(lines.count == 7)
        for line in lines {
            let recall = line["recall_at_10"] as! Double
            #expect(recall >= 0 && recall <= 1 && line["queries"] as? Int == 20 && line["training_vectors"] as? Int == 300)
            // One rescoring per shortlist (the default: 1 and 10).
            let rescored = line["rescored"] as! [[String: Any]]
            #expect(rescored.count == 2 && rescored.allSatisfy { $0["storage"] as? String == "int8" && $0["oversample"] as? Int == 2 })
            #expect(rescored.map { $0["shortlist"] as? Int } == [1, 10])
            #expect(rescored.allSatisfy { ($0["recall_at_10"] as! Double) >= 0 && ($0["recall_at_10"] as! Double) <= 1 })
        }
        #expect(lines.contains { $0["method"] as? String == "sign" && $0["bits"] as? Int == 24 })
        let bad = try runTwentyQ(["eval-vectors", "--database", data, "--bits", "16"])
        #expect(bad.status != 0 && bad.stderr.contains("--queries FILE and --query-rows FILE"))
    }
}
