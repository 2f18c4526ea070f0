import Foundation
import TestSupport
import Testing
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder

/// Cases of issue #16 through the real binary: a clear message, a non-zero exit, no signal,
/// and nothing committed changed.
@Suite struct HostileInputCLITests {
    /// `status != 0`, ended by exit (not by a signal), and the message says `fragment`.
    func expectRefused(_ r: CLIResult, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status != 0, "exit 0: \(r.stdout)", sourceLocation: sourceLocation)
        #expect(!r.signaled, "ended by signal \(r.status)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(fragment), "\(r.stderr)", sourceLocation: sourceLocation)
    }

    /// A model file whose JSON header is changed by `edit`, with length and CRC made valid.
    static func editedModel(_ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        let bytes = try ModelFile.encode(randomModel(bits: 32, hidden: 16))
        let headerLength = Int(bytes[20]) | Int(bytes[21]) << 8 | Int(bytes[22]) << 16 | Int(bytes[23]) << 24
        var header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[24 ..< 24 + headerLength])) as? [String: Any])
        edit(&header)
        let newHeader = Array(try JSONSerialization.data(withJSONObject: header))
        var out = Array(bytes[0..<20]) + withUnsafeBytes(of: UInt32(newHeader.count).littleEndian) { Array($0) } + newHeader
            + Array(bytes[(24 + headerLength) ..< (bytes.count - 4)])
        let length = UInt64(out.count + 4)
        out.replaceSubrange(12..<20, with: withUnsafeBytes(of: length.littleEndian) { Array($0) })
        return out + withUnsafeBytes(of: CRC32.checksum(out).littleEndian) { Array($0) }
    }

    /// Exit statuses say what was wrong: 65 for bad input data (naming the file and line), 64
    /// for bad options.
    @Test func badDataAndBadOptionsExitDifferently() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let codes = dir.appending("codes.jsonl")
        try "{\"id\": \"a\", \"code\": \"00ff\"}\n[1, 2]\n".write(toFile: codes, atomically: true, encoding: .utf8)
        let data = try runTwentyQ(["index", "--db", dir.appending("idx"), "--codes", codes])
        expectRefused(data, "codes.jsonl:2: not a JSON object")
        #expect(data.status == 65)
        #expect(!FileManager.default.fileExists(atPath: dir.appending("idx")))
        let option = try runTwentyQ(["index", "--db", dir.appending("idx"), "--batch", "0", codes])
        expectRefused(option, "--batch must be at least 1")
        #expect(option.status == 64)
    }

    @Test func hostileModelFilesAreRefusedWithoutATrap() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        // C3: a 24-byte file declaring a length of 2^63.
        let huge = dir.appending("huge.tqm")
        try Data(Array("TWENTYQM".utf8) + [1, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 0x80] + Array("XXXX".utf8)).write(to: URL(fileURLWithPath: huge))
        expectRefused(try runTwentyQ(["model", "info", huge]), "declared length 9223372036854775808 is impossible")
        // C4: a valid checksum and "hidden": 2^60.
        let hidden = dir.appending("hidden.tqm")
        try Data(try Self.editedModel { h in
            var config = h["config"] as! [String: Any]; config["hidden"] = 1 << 60; h["config"] = config
        }).write(to: URL(fileURLWithPath: hidden))
        expectRefused(try runTwentyQ(["model", "info", hidden]), "hidden 1152921504606846976")
        // A header without a field, and one with a field of the wrong type: named in words.
        for (edit, fragment) in [({ (h: inout [String: Any]) in var c = h["config"] as! [String: Any]; c["bits"] = nil; h["config"] = c }, "field 'config.bits' is missing"),
                                 ({ (h: inout [String: Any]) in var c = h["config"] as! [String: Any]; c["bits"] = "many"; h["config"] = c }, "field 'config.bits' is not")] {
            let edited = dir.appending("edited.tqm")
            try Data(try Self.editedModel(edit)).write(to: URL(fileURLWithPath: edited))
            let r = try runTwentyQ(["model", "info", edited])
            expectRefused(r, fragment)
            #expect(!r.stderr.contains("CodingKeys") && !r.stderr.contains("codingPath"), "\(r.stderr)")
        }
        // C5: a valid checksum and a negative token length; indexing with it leaves no index.
        let tokens = dir.appending("tokens.tqm")
        try Data(try Self.editedModel { h in
            var config = h["config"] as! [String: Any]
            var featurizer = config["featurizer"] as! [String: Any]; featurizer["maxTokenLength"] = -5
            config["featurizer"] = featurizer; h["config"] = config
        }).write(to: URL(fileURLWithPath: tokens))
        expectRefused(try runTwentyQ(["model", "info", tokens]), "maxTokenLength -5")
        try "{\"id\": \"a\", \"text\": \"space\"}\n".write(toFile: dir.appending("d.jsonl"), atomically: true, encoding: .utf8)
        expectRefused(try runTwentyQ(["index", "--db", dir.appending("idx"), "--model", tokens, dir.appending("d.jsonl")]), "maxTokenLength -5")
        #expect(!FileManager.default.fileExists(atPath: dir.appending("idx/data.mdb")))
    }

    @Test func hostileNumpyShapesAndHugeCountsAreRefused() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = dir.appending("v.tqm")
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path
        #expect(try runTwentyQ(["train", "--vectors", fixtures + "/vectors-12x8-f32.npy", "--bits", "8", "--method", "sign", "--out", model]).status == 0)
        // C6: shapes whose products overflow.
        for (shape, fragment) in [("(9223372036854775807, 8)", "truncated"), ("(1, 4611686018427387904)", "at most 65536"),
                                  ("(4611686018427387904, 8)", "truncated")] {
            var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
            header += String(repeating: " ", count: 63 - header.utf8.count % 64) + "\n"
            let npy = dir.appending("h.npy")
            try Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
                     + Array(header.utf8) + [UInt8](repeating: 0, count: 64)).write(to: URL(fileURLWithPath: npy))
            expectRefused(try runTwentyQ(["index", "--db", dir.appending("idx"), "--vectors", npy, "--model", model]), fragment)
            #expect(!FileManager.default.fileExists(atPath: dir.appending("idx")))
        }
        // C7: huge oversampling and k answer (bounded by the index), no trap.
        let db = dir.appending("vecs")
        #expect(try runTwentyQ(["index", "--db", db, "--vectors", fixtures + "/vectors-12x8-f32.npy", "--model", model, "--store-vectors", "int8"]).status == 0)
        let query = "--vector=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8"
        for args in [["--oversample", "9223372036854775807"], ["-k", "9223372036854775807", "--shortlist", "9223372036854775807"]] {
            let r = try runTwentyQ(["search", "--db", db, query, "--json"] + args)
            #expect(r.status == 0 && !r.signaled, "\(args): \(r.stderr)")
            #expect((try parseJSONObject(r.stdout)["results"] as? [Any])?.isEmpty == false)
        }
        // C8: more random codes than memory holds.
        for args in [["--count", "9223372036854775807"], ["--count", "4611686018427387904"], ["--count", "10", "--queries", "9223372036854775000"]] {
            expectRefused(try runTwentyQ(["bench", "search", "--bits", "64"] + args), "more than half of this machine's memory")
        }
    }

    @Test func jsonlIdsMustBeStringsOrIntegers() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = dir.appending("m.tqm"), db = dir.appending("idx")
        try ModelFile.write(randomModel(bits: 32, hidden: 16), to: model)
        try "{\"id\": 17, \"text\": \"space orbit\"}\n{\"id\": \"x\", \"text\": \"hockey game\"}\n".write(toFile: dir.appending("ok.jsonl"), atomically: true, encoding: .utf8)
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, dir.appending("ok.jsonl")]).status == 0)
        let exported = try runTwentyQ(["export", "--db", db]).stdout
        #expect(exported.contains("\"id\":\"17\""), "\(exported)")
        // D3: true would have become "1", null "<null>"; each is refused, naming the line.
        for (value, said) in [("true", "a boolean (true)"), ("null", "null"), ("1.5", "the number 1.5"), ("[1]", "an array")] {
            try "{\"id\": \"y\", \"text\": \"car\"}\n{\"id\": \(value), \"text\": \"car engine\"}\n".write(toFile: dir.appending("bad.jsonl"), atomically: true, encoding: .utf8)
            expectRefused(try runTwentyQ(["index", "--db", db, "--model", model, dir.appending("bad.jsonl")]), "bad.jsonl:2: \"id\" must be a string or an integer, not \(said)")
        }
        #expect(try parseJSONObject(try runTwentyQ(["info", "--db", db, "--json"]).stdout)["documents"] as? Int == 2)
    }

    /// D2: a JSONL document whose own "source" field equals the folder is not pruned; a field in
    /// TwentyQ's namespace is refused.
    @Test func userFieldsNeverPassForPruneMarkers() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let folder = dir.appending("docs"), model = dir.appending("m.tqm"), db = dir.appending("idx")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try ModelFile.write(randomModel(bits: 32, hidden: 16), to: model)
        let absolute = URL(fileURLWithPath: folder).standardizedFileURL.path
        try "space orbit".write(toFile: folder + "/a.txt", atomically: true, encoding: .utf8)
        try "hockey game".write(toFile: folder + "/b.txt", atomically: true, encoding: .utf8)
        try "{\"id\": \"j1\", \"text\": \"car engine\", \"source\": \"\(absolute)\"}\n".write(toFile: dir.appending("extra.jsonl"), atomically: true, encoding: .utf8)
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, folder, dir.appending("extra.jsonl")]).status == 0)
        try FileManager.default.removeItem(atPath: folder + "/b.txt")
        let pruned = try runTwentyQ(["index", "--db", db, "--prune", folder, "--json"])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(try parseJSONObject(pruned.stdout)["pruned"] as? Int == 1)
        let ids = try runTwentyQ(["export", "--db", db]).stdout
        #expect(ids.contains("\"j1\"") && ids.contains("\"a.txt\"") && !ids.contains("\"b.txt\""), "\(ids)")
        try "{\"id\": \"j2\", \"text\": \"car\", \"twentyq.root\": \"/\"}\n".write(toFile: dir.appending("sneaky.jsonl"), atomically: true, encoding: .utf8)
        expectRefused(try runTwentyQ(["index", "--db", db, dir.appending("sneaky.jsonl")]), "field \"twentyq.root\" is reserved")
    }

    /// The "unclear" cases: CRLF id files, a FIFO or device as input, control characters
    /// in printed ids and snippets, --skip-bad and empty ids.
    @Test func unclearCasesGetClearAnswers() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = dir.appending("m.tqm"), db = dir.appending("idx")
        try ModelFile.write(randomModel(bits: 32, hidden: 16), to: model)
        // CRLF: one id per line, whatever the line ending.
        let ids = dir.appending("ids.txt")
        try (0..<12).map { "v\($0)" }.joined(separator: "\r\n").write(toFile: ids, atomically: true, encoding: .utf8)
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path
        let vmodel = dir.appending("v.tqm")
        #expect(try runTwentyQ(["train", "--vectors", fixtures + "/vectors-12x8-f32.npy", "--bits", "8", "--method", "sign", "--out", vmodel]).status == 0)
        let v = try runTwentyQ(["index", "--db", dir.appending("vecs"), "--vectors", fixtures + "/vectors-12x8-f32.npy", "--model", vmodel, "--ids", ids, "--json"])
        #expect(v.status == 0, "\(v.stderr)")
        #expect(try runTwentyQ(["export", "--db", dir.appending("vecs")]).stdout.contains("\"id\":\"v11\""))
        // A FIFO is refused by name, not read (it would block) and not called "permission".
        let fifo = dir.appending("pipe")
        try #require(mkfifo(fifo, 0o600) == 0)
        expectRefused(try runTwentyQ(["index", "--db", db, "--model", model, fifo]), "not a regular file")
        expectRefused(try runTwentyQ(["index", "--db", db, "--model", model, "/dev/zero"]), "not a regular file")
        // Control characters in ids and texts are escaped on a terminal.
        try "{\"id\": \"evil\\u001b[2Jid\", \"text\": \"space orbit\\nfake line\"}\n".write(toFile: dir.appending("c.jsonl"), atomically: true, encoding: .utf8)
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, dir.appending("c.jsonl")]).status == 0)
        let shown = try runTwentyQ(["search", "--db", db, "space orbit"])
        #expect(shown.stdout.contains("evil\\u{1b}[2Jid") && !shown.stdout.contains("\u{1b}"), "\(shown.stdout)")
        #expect(shown.stdout.split(separator: "\n").count == 1, "\(shown.stdout)")
        // An empty id stops the run, naming the problem; --skip-bad skips and counts it.
        try "{\"id\": \"\", \"text\": \"car\"}\n{\"id\": \"ok\", \"text\": \"car engine\"}\n".write(toFile: dir.appending("e.jsonl"), atomically: true, encoding: .utf8)
        expectRefused(try runTwentyQ(["index", "--db", db, dir.appending("e.jsonl")]), "must not be empty")
        let skipped = try runTwentyQ(["index", "--db", db, dir.appending("e.jsonl"), "--skip-bad", "--json"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect((try parseJSONObject(skipped.stdout)["skipped_reasons"] as? [String: Int])?["bad id"] == 1)
    }
}
