import Foundation
import TestSupport
import Testing
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder

/// Issue #16, C1 and C2: a damaged data.mdb gives an error, never a signal.
@Suite struct DamagedIndexCLITests {
    static func index(_ dir: TemporaryDirectory) throws -> String {
        let folder = try LexicalSearchCLITests.folder(dir)
        let model = dir.appending("m.tqm"), db = dir.appending("idx")
        try ModelFile.write(randomModel(bits: 64, hidden: 32), to: model)
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, folder]).status == 0)
        return db
    }

    /// C1: a data.mdb cut short (an interrupted copy) by one page or more.
    @Test(arguments: [4096, 8192, 65536])
    func aCutShortFileIsReportedAsDamaged(cut: Int) throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = try Self.index(dir)
        let file = db + "/data.mdb"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        try #require(truncate(file, off_t(size - cut)) == 0)
        for args in [["info", "--db", db], ["search", "--db", db, "space"], ["export", "--db", db], ["index", "--db", db, dir.appending("docs")]] {
            let r = try runTwentyQ(args)
            #expect(r.status != 0 && !r.signaled, "\(args[0]): status \(r.status)")
            #expect(r.stderr.contains("is damaged") && r.stderr.contains("cut short"), "\(args[0]): \(r.stderr)")
        }
    }

    /// C2: seeded byte flips anywhere in data.mdb: every command ends by exiting (with results
    /// or an error), never by a signal.
    @Test func flippedBytesNeverKillTheProcess() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = try Self.index(dir)
        let original = try Data(contentsOf: URL(fileURLWithPath: db + "/data.mdb"))
        var rng = SeededGenerator(seed: 16)
        let damaged = dir.appending("damaged")
        for round in 0..<40 {
            try? FileManager.default.removeItem(atPath: damaged)
            try FileManager.default.createDirectory(atPath: damaged, withIntermediateDirectories: false)
            var bytes = [UInt8](original)
            for _ in 0 ..< [1, 8, 64][round % 3] { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            try Data(bytes).write(to: URL(fileURLWithPath: damaged + "/data.mdb"))
            for args in [["info", "--db", damaged], ["export", "--db", damaged], ["search", "--db", damaged, "space launch"],
                         ["search", "--db", damaged, "--rescore", "none", "orbit"]] {
                let r = try runTwentyQ(args)
                #expect(!r.signaled, "round \(round), \(args[0]): signal \(r.status); \(r.stderr)")
            }
        }
    }
}

extension DamagedIndexCLITests {
    /// Damage that LMDB itself cannot survive (two files the index fuzzer found): a cycle of
    /// pages that LMDB walks forever, and a node flag that sends it through a null pointer. The
    /// CLI reports both as a damaged index, exit status 74, instead of hanging or dying.
    @Test(arguments: ["damaged-page-cycle", "damaged-dup-flag"])
    func damageThatLMDBCannotSurviveIsReported(fixture: String) throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = dir.appending("idx")
        try FileManager.default.createDirectory(atPath: db, withIntermediateDirectories: false)
        let gz = LoaderFuzzTests.fixtures + "/\(fixture).mdb.gz"
        #expect(try runShell("gunzip -c '\(gz)' > '\(db)/data.mdb'").status == 0)
        let binary = try twentyqBinary()
        for command in ["check", "export", "search --rescore none space"] {
            let r = try runShell("TWENTYQ_LMDB_STALL_SECONDS=2 '\(binary)' \(command) --db '\(db)'")
            #expect(r.status == 74 && !r.signaled, "\(fixture), \(command): status \(r.status): \(r.stderr)")
            #expect(r.stderr.contains("an index file is damaged"), "\(fixture), \(command): \(r.stderr)")
        }
    }
}

@Suite struct BackupCLITests {
    /// `backup` taken while an `index` runs: the copy opens, holds whole batches with their
    /// codes, passes `check`, searches, and a second backup to the same place is refused.
    @Test func aBackupTakenWhileIndexingOpensAndSearches() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let (corpus, model) = try IndexCreationCLITests.corpus(dir, count: 6000)
        let db = dir.appending("idx")
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, "--batch", "500", corpus]).status == 0)
        // Replace every document (new texts) while backups are taken.
        let changed = dir.appending("changed.jsonl")
        let text = try String(contentsOfFile: corpus, encoding: .utf8).replacingOccurrences(of: "space", with: "nasa")
        try text.write(toFile: changed, atomically: true, encoding: .utf8)
        let writer = try startTwentyQ(["index", "--db", db, "--batch", "500", changed])
        var copies = 0
        while writer.process.isRunning || copies == 0 {
            let out = dir.appending("copy\(copies)")
            let r = try runTwentyQ(["backup", "--db", db, "--out", out, "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let copy = try DocumentIndex.open(at: out, readOnly: true)
            #expect(try copy.count == 6000)
            #expect(try copy.store.termStatistics().documents == 6000)
            #expect(try runTwentyQ(["search", "--db", out, "-k", "3", "car engine"]).status == 0)
            let check = try runTwentyQ(["check", "--db", out])
            #expect(check.status == 0, "\(check.stdout)")
            copies += 1
            if copies >= 20 { break }
        }
        #expect(writer.finish().status == 0)
        let again = try runTwentyQ(["backup", "--db", db, "--out", dir.appending("copy0")])
        #expect(again.status != 0 && again.stderr.contains("already"), "\(again.stderr)")
    }
}

@Suite struct CheckCLITests {
    /// A bit changed where `check` can see it: in a record's id, in a term record's hashes, in a
    /// posting's slot. Each is found and named; the intact index and a backup are consistent.
    @Test func checkFindsChangedBytesAndSaysWhere() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = try DamagedIndexCLITests.index(dir)
        var r = try runTwentyQ(["check", "--db", db, "--json"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        var o = try parseJSONObject(r.stdout)
        #expect(o["consistent"] as? Bool == true && o["codes"] as? Int == 61 && o["term_records"] as? Int == 61)
        #expect(o["checksummed"] as? Int == 61 + 1)  // 61 records, 1 code chunk
        #expect((o["postings"] as? Int ?? 0) > 61)
        // info --json: LMDB's page statistics per table agree with the counts.
        let info = try parseJSONObject(try runTwentyQ(["info", "--db", db, "--json"]).stdout)
        let lmdb = try #require(info["lmdb"] as? [String: [String: Int]])
        #expect(lmdb["ids"]?["entries"] == 61 && lmdb["records"]?["entries"] == 61 && lmdb["terms"]?["entries"] == 61)
        #expect(lmdb["sums"]?["entries"] == 62 && (lmdb["postings"]?["leaf_pages"] ?? 0) >= 1)
        #expect((lmdb["meta"]?["bytes"] ?? 0) > 0 && lmdb.keys.sorted() == ["codes", "ids", "meta", "mih", "postings", "records", "sums", "termdf", "terms"])
        #expect(try runTwentyQ(["backup", "--db", db, "--out", dir.appending("copy")]).status == 0)
        #expect(try runTwentyQ(["check", "--db", dir.appending("copy")]).status == 0)

        let original = try Data(contentsOf: URL(fileURLWithPath: db + "/data.mdb"))
        /// A copy of the index with the byte at the first occurrence of `pattern` (plus `offset`) changed.
        func damaged(_ pattern: [UInt8], offset: Int, _ name: String) throws -> String {
            var bytes = [UInt8](original)
            let at = try #require((0 ... bytes.count - pattern.count).first { bytes[$0 ..< $0 + pattern.count].elementsEqual(pattern) })
            bytes[at + offset] ^= 0x01
            let copy = dir.appending(name)
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
            try Data(bytes).write(to: URL(fileURLWithPath: copy + "/data.mdb"))
            return copy
        }
        // A record: "build.md" is an id; its stored copy in `records` follows its 4-byte length.
        let recordID = Array("build.md".utf8)
        let lengthPrefix: [UInt8] = [UInt8(recordID.count), 0, 0, 0] + recordID
        r = try runTwentyQ(["check", "--db", try damaged(lengthPrefix, offset: 5, "record"), "--json"])
        o = try parseJSONObject(r.stdout)
        #expect(r.status == 1 && o["consistent"] as? Bool == false)
        #expect((o["problems"] as? [String])?.contains { $0.contains("missing from the ids table") } == true, "\(o)")
        // A record's metadata: one bit of its snippet's text.
        r = try runTwentyQ(["check", "--db", try damaged(Array("run xsltproc over".utf8), offset: 4, "metadata"), "--json"])
        o = try parseJSONObject(r.stdout)
        #expect(r.status == 1 && (o["problems"] as? [String])?.contains { $0.contains("does not match its checksum") } == true, "\(o)")
        // A code: the stored code of "build.md", found through the intact index.
        let code = try #require(try CodeIndex.open(at: db, readOnly: true).code(for: "build.md"))
        let codeBytes = code.words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) } }
        r = try runTwentyQ(["check", "--db", try damaged(codeBytes, offset: 3, "code"), "--json"])
        o = try parseJSONObject(r.stdout)
        #expect(r.status == 1 && (o["problems"] as? [String])?.contains { $0.contains("chunk 0") && $0.contains("checksum") } == true, "\(o)")
        // A term record: the 48-bit hash of "xsltproc" as stored (6 bytes little-endian).
        let hash = TermHash.of("xsltproc")
        let stored = (0..<6).map { UInt8(truncatingIfNeeded: hash >> (8 * UInt64($0))) }
        r = try runTwentyQ(["check", "--db", try damaged(stored, offset: 2, "terms"), "--json"])
        o = try parseJSONObject(r.stdout)
        #expect(r.status == 1 && (o["problems"] as? [String])?.contains { $0.contains("postings") || $0.contains("terms") } == true, "\(o)")
        // A posting: the same hash as a postings key (partition 0, hash big-endian).
        let key: [UInt8] = [0, 0, 0, 0] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: hash >> (8 * UInt64($0))) }
        r = try runTwentyQ(["check", "--db", try damaged(key, offset: 11, "postings"), "--json"])
        o = try parseJSONObject(r.stdout)
        #expect(r.status == 1 && (o["problems"] as? [String])?.contains { $0.contains("postings") } == true, "\(o)")
    }
}
