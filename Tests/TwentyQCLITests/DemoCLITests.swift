import Foundation
import TestSupport
import Testing
import TwentyQ

/// `twentyq demo` with the shipped model and sample, as a new user runs it.
@Suite struct DemoCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theDemoIndexesTheSampleAndFindsAFortuneByItsOwnText() throws {
        let sample = try String(contentsOf: Self.root.appendingPathComponent("Data/sample/fortunes-3000.jsonl"), encoding: .utf8)
        let line = sample.split(separator: "\n")[1234]
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let id = try #require(object["id"] as? String), text = try #require(object["text"] as? String)

        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let result = try runTwentyQ(["demo", "--keep", dir.appending("idx"), "--query", text, "--query", "computers", "-k", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("indexed 3000 fortunes (3000 new) with the default 1024-bit ternary model"))
        #expect(result.stdout.contains("d=0  \(id)  "), "\(result.stdout)")
        #expect(result.stdout.components(separatedBy: "\n  d=").count - 1 == 6) // 3 hits for each of 2 queries
        #expect(try parseJSONObject(try runTwentyQ(["info", "--db", dir.appending("idx"), "--json"]).stdout)["documents"] as? Int == 3000)

        // The demo never writes into an existing directory (a user's index): it refuses.
        let again = try runTwentyQ(["demo", "--keep", dir.appending("idx"), "--query", "x"])
        #expect(again.status != 0 && again.stderr.contains("exists"), "\(again.stderr)")
        #expect(try parseJSONObject(try runTwentyQ(["info", "--db", dir.appending("idx"), "--json"]).stdout)["documents"] as? Int == 3000)
    }

    /// Without --keep the demo leaves nothing behind in the temporary directory.
    @Test func theDemoRemovesItsTemporaryIndex() throws {
        let tmp = try TemporaryDirectory(); defer { tmp.remove() }
        let r = try runShell("TMPDIR='\(tmp.path)/' '\(try twentyqBinary())' demo --query computers -k 1")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty)
    }

    @Test func theShippedModelIsFoundAndDescribesItself() throws {
        let info = try runTwentyQ(["model", "info", "--json"])
        #expect(info.status == 0, "\(info.stderr)")
        let object = try parseJSONObject(info.stdout)
        #expect(object["bits"] as? Int == 1024 && object["weights"] as? String == "ternary")
        #expect(object["trained_bits"] as? Int == 256 && object["query_bits"] as? Int == 768)
        #expect((object["file_bytes"] as? Int ?? 0) < 4_000_000)
    }
}
