import Foundation
import TestSupport
import Testing
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder

/// `index --codes`, `tables`, `info` and `search --explain-plan --method` through the real binary.
@Suite struct TablesCLITests {
    /// A JSONL file of `count` clustered 64-bit codes as `export` writes them.
    func writeCodes(_ path: String, count: Int) throws -> CodeMatrix {
        let codes = try clusteredCodes(bits: 64, count: count, seed: 5, noise: 6)
        let lines = (0..<count).map { "{\"id\": \"c\($0)\", \"code\": \"\(codes[$0].hex)\", \"n\": \($0)}" }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return codes
    }

    /// An index of ready-made codes is searched by a code or by a stored id (issue #17): exact
    /// Hamming order (checked against the naive reference), metadata shown; text is refused
    /// with the way to search it, and a bad code names the width.
    @Test func codesAreSearchedByCodeAndByID() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = dir.appending("idx")
        let codes = try writeCodes(dir.appending("codes.jsonl"), count: 500)
        #expect(try runTwentyQ(["index", "--codes", dir.appending("codes.jsonl"), "--db", db]).status == 0)
        let query = codes[42]
        let expected = (0..<codes.count).map { (HammingReference.distance(codes[$0], query), $0) }.sorted { $0 < $1 }.prefix(5)
        for args in [["--code", query.hex], ["--like", "c42"]] {
            let r = try runTwentyQ(["search", "--db", db, "-k", "5", "--json"] + args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            let results = try #require(try parseJSONObject(r.stdout)["results"] as? [[String: Any]])
            #expect(results.map { $0["id"] as? String } == expected.map { "c\($0.1)" }, "\(args)")
            #expect(results.map { $0["distance"] as? Int } == expected.map { $0.0 })
            // The metadata {"n": 42} comes back as fields, the number as its JSON text (SearchHit).
            #expect((results.first?["fields"] as? [String: Any])?["n"] as? String == "42")
        }
        let within = try runTwentyQ(["search", "--db", db, "--code", query.hex, "--radius", "3", "--json"])
        let inRadius = try #require(try parseJSONObject(within.stdout)["results"] as? [[String: Any]])
        #expect(inRadius.count == (0..<codes.count).filter { HammingReference.distance(codes[$0], query) <= 3 }.count)
        let text = try runTwentyQ(["search", "--db", db, "hello"])
        #expect(text.status != 0 && text.stderr.contains("search --code HEX"), "\(text.stderr)")
        let bad = try runTwentyQ(["search", "--db", db, "--code", "abc"])
        #expect(bad.status == 65 && bad.stderr.contains("64-bit codes: 16 hex digits"), "\(bad.stderr)")
    }

    @Test func codesAreIndexedAndTablesShownChangedAndUsed() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = dir.appending("idx")
        let codes = try writeCodes(dir.appending("codes.jsonl"), count: 3000)
        var r = try runTwentyQ(["index", "--codes", dir.appending("codes.jsonl"), "--db", db, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try parseJSONObject(r.stdout)["added"] as? Int == 3000)
        #expect(try CodeIndex.open(at: db, readOnly: true).code(for: "c17") == codes[17])
        #expect(try CodeIndex.open(at: db, readOnly: true).metadata(for: "c17") == Array("{\"n\":17}".utf8))

        r = try runTwentyQ(["tables", "--db", db])
        #expect(r.status == 0 && r.stdout.contains("none yet (3000 codes; built from 65536 on"), "\(r.stdout)\(r.stderr)")
        r = try runTwentyQ(["tables", "--db", db, "--min-count", "1000", "--substrings", "4", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        var s = try parseJSONObject(r.stdout)
        #expect(s["built"] as? Bool == true && s["substrings"] as? Int == 4 && s["built_count"] as? Int == 3000 && s["pending"] as? Int == 0)
        r = try runTwentyQ(["info", "--db", db, "--json"])
        s = try parseJSONObject(r.stdout)
        #expect((s["multi_index"] as? [String: Any])?["substring_bits"] as? [Int] == [16, 16, 16, 16])
        #expect(s["format"] as? Int == 5)

        // Changes after the build join the pending list.
        _ = try writeCodes(dir.appending("more.jsonl"), count: 10)
        r = try runTwentyQ(["index", "--codes", dir.appending("more.jsonl"), "--db", db, "--json"])
        #expect(try parseJSONObject(r.stdout)["replaced"] as? Int == 10)
        s = try parseJSONObject(try runTwentyQ(["tables", "--db", db, "--json"]).stdout)
        #expect(s["pending"] as? Int == 10, "\(s)")

        r = try runTwentyQ(["tables", "--db", db, "--substrings", "0"])
        #expect(r.status != 0 && r.stderr.contains("substrings must be between 3 and 64"), "\(r.stderr)")
        r = try runTwentyQ(["tables", "--db", db, "--disable", "--json"])
        #expect(try parseJSONObject(r.stdout)["built"] as? Bool == false)
    }

    @Test func badCodeFilesNameTheLineAndLeaveNoIndex() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = dir.appending("idx")
        try "{\"id\": \"a\", \"code\": \"00ff\"}\n{\"id\": \"b\", \"code\": \"00fg\"}\n".write(toFile: dir.appending("bad.jsonl"), atomically: true, encoding: .utf8)
        var r = try runTwentyQ(["index", "--codes", dir.appending("bad.jsonl"), "--db", db])
        #expect(r.status != 0 && r.stderr.contains("bad.jsonl:2"), "\(r.stderr)")
        try "{\"id\": \"a\", \"code\": \"00ff\"}\n{\"id\": \"b\", \"code\": \"00ff00\"}\n".write(toFile: dir.appending("width.jsonl"), atomically: true, encoding: .utf8)
        r = try runTwentyQ(["index", "--codes", dir.appending("width.jsonl"), "--db", db])
        #expect(r.status != 0 && r.stderr.contains("width.jsonl:2") && r.stderr.contains("16 bits"), "\(r.stderr)")
        try "{\"id\": \"a\", \"code\": \"00ff\"}\n{\"id\": \"a\", \"code\": \"00fe\"}\n".write(toFile: dir.appending("twice.jsonl"), atomically: true, encoding: .utf8)
        r = try runTwentyQ(["index", "--codes", dir.appending("twice.jsonl"), "--db", db])
        #expect(r.status != 0 && r.stderr.contains("appears twice"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func explainPlanSaysWhichPathAnsweredAndResultsDoNotChange() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = dir.appending("idx")
        let model = dir.appending("m.tqm")
        try ModelFile.write(randomModel(bits: 64, hidden: 32), to: model)
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/fortunes-200.jsonl").path
        var r = try runTwentyQ(["index", "--db", db, "--model", model, fixtures])
        #expect(r.status == 0, "\(r.stderr)")
        r = try runTwentyQ(["search", "--db", db, "god and the church on a space launch", "--json", "--explain-plan"])
        var plan = try parseJSONObject(String(r.stderr.split(separator: "\n").last ?? ""))
        #expect(plan["method"] as? String == "scan" && plan["tables"] as? Int == 0, "\(r.stderr)")
        #expect(r.status == 0)
        let scanned = r.stdout
        #expect(try runTwentyQ(["tables", "--db", db, "--min-count", "10"]).status == 0)
        r = try runTwentyQ(["search", "--db", db, "god and the church on a space launch", "--json", "--explain-plan", "--method", "tables"])
        plan = try parseJSONObject(String(r.stderr.split(separator: "\n").last ?? ""))
        #expect(plan["method"] as? String == "tables" && (plan["tables"] as? Int ?? 0) > 0 && (plan["candidates"] as? Int ?? 0) > 0, "\(r.stderr)")
        #expect(r.stdout == scanned)
        r = try runTwentyQ(["search", "--db", db, "god and the church on a space launch", "--json", "--explain-plan", "--method", "scan"])
        plan = try parseJSONObject(String(r.stderr.split(separator: "\n").last ?? ""))
        #expect(plan["method"] as? String == "scan" && plan["why"] as? String == "--method scan", "\(r.stderr)")
        #expect(r.stdout == scanned)
        r = try runTwentyQ(["search", "--db", db, "x", "--method", "fast"])
        #expect(r.status != 0 && r.status == 64 && r.stderr.contains("Please provide one of 'auto', 'scan' or 'tables'"))
    }
}
