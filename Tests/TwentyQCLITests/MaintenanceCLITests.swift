import Foundation
import TestSupport
import Testing
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder

/// Issue #16: `compact` and `check --repair` rewrite data.mdb in place, only with the index to
/// themselves, and a kill at any moment leaves an index that opens whole.
@Suite struct CompactCLITests {
    /// 3,000 documents indexed, 2,000 removed: returns the index and the removed ids.
    static func shrunkIndex(_ dir: TemporaryDirectory) throws -> String {
        let (corpus, model) = try IndexCreationCLITests.corpus(dir, count: 3000)
        let db = dir.appending("idx")
        #expect(try runTwentyQ(["index", "--db", db, "--model", model, corpus]).status == 0)
        let removed = try runTwentyQ(["remove", "--db", db] + (0..<2000).map { "d\($0 * 3 / 2)" })
        #expect(removed.status == 0, "\(removed.stderr)")
        return db
    }

    @Test func compactGivesBackSpaceAndKeepsEveryDocument() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = try Self.shrunkIndex(dir)
        #expect(try runTwentyQ(["tables", "--db", db, "--enable", "--min-count", "100"]).status == 0)
        let query = ["search", "--db", db, "-k", "20", "--json", "orbit church engine"]
        let before = try runTwentyQ(query)
        let exported = try runTwentyQ(["export", "--db", db]).stdout
        let r = try runTwentyQ(["compact", "--db", db, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try parseJSONObject(r.stdout)
        let bytesBefore = try #require(o["bytes_before"] as? Int), bytesAfter = try #require(o["bytes_after"] as? Int)
        #expect(o["documents"] as? Int == 1000 && bytesAfter < bytesBefore, "\(o)")
        let check = try parseJSONObject(try runTwentyQ(["check", "--db", db, "--json"]).stdout)
        #expect(check["consistent"] as? Bool == true && check["table_queries"] as? Int == 64, "\(check)")
        #expect(try runTwentyQ(query).stdout == before.stdout)
        #expect(try runTwentyQ(["export", "--db", db]).stdout == exported)
        #expect(try runTwentyQ(["index", "--db", db, dir.appending("c.jsonl")]).status == 0)  // writable afterwards
        #expect(try CodeIndex.open(at: db, readOnly: true).count == 3000)
    }

    /// While any process (here, this test's own open index) has the index open, compact and
    /// repair refuse with a message, and the file does not change.
    @Test func compactAndRepairRefuseAnIndexInUse() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = try Self.shrunkIndex(dir)
        let original = try Data(contentsOf: URL(fileURLWithPath: db + "/data.mdb"))
        do {
            let open = try DocumentIndex.open(at: db, readOnly: true)
            for args in [["compact", "--db", db], ["check", "--repair", "--db", db]] {
                let r = try runTwentyQ(args)
                #expect(args[0] == "check" ? r.status == 0 : r.status != 0)  // a consistent index needs no repair
                #expect(!r.signaled)
                if args[0] == "compact" { #expect(r.stderr.contains("while it is open elsewhere"), "\(r.stderr)") }
            }
            #expect(throws: IndexError.self) { try CodeIndex.compact(at: db) }
            #expect(throws: IndexError.self) { try CodeIndex.repair(at: db) }
            #expect(try open.count == 1000)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db + "/data.mdb")) == original)
        #expect(try CodeIndex.compact(at: db).documents == 1000)  // closed: it runs
    }

    /// SIGKILL at seeded moments of compact: the index always opens, consistent, with every
    /// document; the staging directories of killed runs are gone after the next run.
    @Test func aKilledCompactLeavesAWholeIndex() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = try Self.shrunkIndex(dir)
        var rng = SeededGenerator(seed: 21)
        for round in 0..<8 {
            let run = try startTwentyQ(["compact", "--db", db])
            usleep(useconds_t(rng.next() % 40_000))
            let r = run.killNow()
            #expect(!r.signaled || r.status == SIGKILL, "round \(round)")
            let check = try runTwentyQ(["check", "--db", db, "--json"])
            #expect(check.status == 0, "round \(round): \(check.stdout) \(check.stderr)")
            #expect(try CodeIndex.open(at: db, readOnly: true).count == 1000)
        }
        #expect(try runTwentyQ(["compact", "--db", db]).status == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".idx.") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}

@Suite struct RepairCLITests {
    /// A copy of `db` with one bit changed at the first occurrence of `pattern` (plus `offset`).
    static func damaged(_ db: String, _ pattern: [UInt8], offset: Int, into copy: String) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: db + "/data.mdb")))
        let at = try #require((0 ... bytes.count - pattern.count).first { bytes[$0 ..< $0 + pattern.count].elementsEqual(pattern) })
        bytes[at + offset] ^= 0x01
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false)
        try Data(bytes).write(to: URL(fileURLWithPath: copy + "/data.mdb"))
        return copy
    }

    /// Runs `check --repair --json` and checks the result: repaired, consistent afterwards, the
    /// kept count, and a plain `check` passing.
    static func repair(_ db: String, kept: Int) throws -> [String: Any] {
        let r = try runTwentyQ(["check", "--repair", "--db", db, "--json"])
        #expect(r.status == 0 && !r.signaled, "\(r.stdout) \(r.stderr)")
        let o = try parseJSONObject(r.stdout.split(separator: "\n").last.map(String.init) ?? "")
        #expect(o["repaired"] as? Bool == true && o["consistent_after"] as? Bool == true && o["kept"] as? Int == kept, "\(o)")
        #expect(try runTwentyQ(["check", "--db", db]).status == 0)
        return o
    }

    /// Each damage that `check` finds: `--repair` keeps every document it can verify, names the
    /// ones it cannot, and leaves a consistent index that searches.
    @Test func repairKeepsWhatItCanVerifyAndNamesTheRest() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = try DamagedIndexCLITests.index(dir)

        // A record's id: the record fails its checksum; its id is named from the ids table.
        let recordID = Array("build.md".utf8)
        var o = try Self.repair(try Self.damaged(db, [UInt8(recordID.count), 0, 0, 0] + recordID, offset: 5, into: dir.appending("record")), kept: 60)
        var dropped = o["dropped"] as? [[String: Any]] ?? []
        #expect(dropped.count == 1 && dropped.first?["id"] as? String == "build.md", "\(dropped)")
        // A record's metadata: reading it (export, a search that returns it) is an error that
        // names the slot and the way out; repair drops it as above.
        let metadata = try Self.damaged(db, Array("run xsltproc over".utf8), offset: 4, into: dir.appending("metadata"))
        for args in [["export", "--db", metadata], ["search", "--db", metadata, "-k", "61", "xsltproc"]] {
            let read = try runTwentyQ(args)
            #expect(read.status != 0 && !read.signaled, "\(args[0]): \(read.status)")
            #expect(read.stderr.contains("does not match its checksum") && read.stderr.contains("check --repair"), "\(args[0]): \(read.stderr)")
        }
        o = try Self.repair(metadata, kept: 60)
        dropped = o["dropped"] as? [[String: Any]] ?? []
        #expect(dropped.count == 1 && (dropped.first?["reason"] as? String)?.contains("checksum") == true, "\(dropped)")
        // A code: every document of the chunk is kept and named as unverified.
        let code = try #require(try CodeIndex.open(at: db, readOnly: true).code(for: "build.md"))
        let codeBytes = code.words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) } }
        o = try Self.repair(try Self.damaged(db, codeBytes, offset: 3, into: dir.appending("code")), kept: 61)
        #expect((o["unverified_codes"] as? [String])?.count == 61 && (o["dropped"] as? [Any])?.isEmpty == true, "\(o)")
        // A term record, and a posting: the document keeps the terms both tables agree on.
        let hash = TermHash.of("xsltproc")
        let stored = (0..<6).map { UInt8(truncatingIfNeeded: hash >> (8 * UInt64($0))) }
        let key: [UInt8] = [0, 0, 0, 0] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: hash >> (8 * UInt64($0))) }
        for (name, pattern, offset) in [("terms", stored, 2), ("postings", key, 11)] {
            let copy = try Self.damaged(db, pattern, offset: offset, into: dir.appending(name))
            o = try Self.repair(copy, kept: 61)
            #expect((o["partial_terms"] as? [String])?.count == 1, "\(name): \(o)")
            #expect(try runTwentyQ(["search", "--db", copy, "-k", "3", "space launch"]).status == 0)
        }
        // C9: the model stored in the index: every command that needs it says so; check names it.
        let model = try Self.damaged(db, Array("TWENTYQM".utf8), offset: 200, into: dir.appending("model"))
        let search = try runTwentyQ(["search", "--db", model, "space"])
        #expect(search.status == 1 && search.stderr.contains("the model stored in the index at"), "\(search.stderr)")
        let checked = try runTwentyQ(["check", "--db", model])
        #expect(checked.status == 1 && checked.stdout.contains("the stored model: its checksum does not match"), "\(checked.stdout)")
        // A consistent index: nothing to repair, nothing changed.
        let before = try Data(contentsOf: URL(fileURLWithPath: db + "/data.mdb"))
        let r = try runTwentyQ(["check", "--repair", "--db", db])
        #expect(r.status == 0 && r.stdout.contains("consistent") && !r.stdout.contains("repaired"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: db + "/data.mdb")) == before)
    }
}
