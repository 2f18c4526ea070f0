import Foundation
import TestSupport
import Testing
import CMappedFaults
import TwentyQ

/// Seeded mutation fuzzing of the index opener and readers, in process (issue #16): a small
/// document index's data.mdb with 1 to 8 mutations (byte flips, interesting integers, cuts),
/// opened read-only and put through info, check, a search with the lexical stage, and an
/// export walk. Each case must answer or throw.
///
/// One kind of damage cannot become an error in process: LMDB trusts its pages, and a damaged
/// page header or node flag makes LMDB itself read past the end of the mapped file (SIGBUS) or
/// through a pointer it never set (SIGSEGV inside liblmdb). The CLI turns exactly these faults
/// into a "damaged" error with exit status 74 (MappedFileFault.swift, CMappedFaults); this test
/// catches them the same way (`catchingLMDBFaults`) and counts them. Any other fault, any trap
/// in TwentyQ's own code, and any hang fail the run. Cases are seeded one by one (seed, case
/// number), so a run can start at any case (`TWENTYQ_FUZZ_FIRST`, `TWENTYQ_FUZZ_KEEP=N`
/// writes case N's file to /tmp to reproduce it through the CLI; `TWENTYQ_FUZZ_TRACE` prints each
/// case number).
@Suite struct IndexFuzzTests {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }
    static var cases: Int { Int(environment["TWENTYQ_FUZZ_INDEX_CASES"] ?? "") ?? 200 }
    static var first: Int { Int(environment["TWENTYQ_FUZZ_FIRST"] ?? "") ?? 0 }
    static var seed: UInt64 { UInt64(environment["TWENTYQ_FUZZ_SEED"] ?? "") ?? 1_616 }

    /// The seed index: 60 fortunes under a small random model, with multi-index tables.
    static func seedIndex(_ dir: TemporaryDirectory) throws -> [UInt8] {
        let path = dir.appending("seed")
        let index = try DocumentIndex.open(at: path, model: randomModel(bits: 64, hidden: 16))
        let lines = try String(contentsOfFile: LoaderFuzzTests.fixtures + "/fortunes-200.jsonl", encoding: .utf8)
            .split(separator: "\n").prefix(60)
        let documents = try lines.map { line -> Document in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return Document(id: "\(object["id"]!)", text: object["text"] as? String ?? "")
        }
        try index.add(documents)
        try index.store.configureMultiIndex(MultiIndexSettings(enabled: true, substrings: nil, minimumCount: 10))
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/data.mdb")))
    }

    /// Opens the index at `path` and reads it every way a command does; true when every step
    /// answered, false when one threw.
    static func probe(_ path: String) -> Bool {
        do {
            let index = try DocumentIndex.open(at: path, readOnly: true)
            _ = try index.store.info()
            _ = try index.store.checkConsistency(limit: 5)
            _ = try index.search(texts: ["space launch", "love and money"], k: 5, threads: 1)  // faults are caught on this thread
            _ = try index.search(like: try index.store.id(atSlot: 0) ?? "none", k: 3)
            try index.store.forEachRecord { _, _, _ in true }
            return true
        } catch {
            return false
        }
    }

    @Test func mutatedIndexFilesAnswerOrThrow() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let original = try Self.seedIndex(dir)
        let target = dir.appending("case")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try Data(original).write(to: URL(fileURLWithPath: target + "/data.mdb"))
        #expect(Self.probe(target), "the seed index itself reads")

        twentyq_start_lmdb_watchdog(2)  // a case stuck in LMDB for 2 s is interrupted and counted
        var answered = 0, refused = 0, faults = 0, stalls = 0
        for n in Self.first ..< Self.cases {
            if Self.environment["TWENTYQ_FUZZ_TRACE"] != nil { FileHandle.standardError.write(Data("case \(n)\n".utf8)) }
            var rng = SeededGenerator(seed: Self.seed &* 1_000_003 &+ UInt64(n))
            // Half the cases keep the length (flips only reach deeper than the length check).
            var bytes = original
            if rng.next() % 2 == 0 {
                for _ in 0 ..< 1 + Int(rng.next() % 8) { bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(1 << (rng.next() % 8)) }
            } else {
                bytes = LoaderFuzzTests.mutate(original, &rng)
            }
            try Data(bytes).write(to: URL(fileURLWithPath: target + "/data.mdb"))
            try? FileManager.default.removeItem(atPath: target + "/lock.mdb")
            if let keep = Self.environment["TWENTYQ_FUZZ_KEEP"], Int(keep) == n {  // reproduce one case
                try Data(bytes).write(to: URL(fileURLWithPath: keep == "\(n)" ? "/tmp/twentyq-fuzz-case-\(n).mdb" : ""))
            }
            var ok = false
            if let sig = catchingLMDBFaults({ ok = Self.probe(target) }) {
                if sig == SIGUSR2 { stalls += 1 } else { faults += 1 }
                releaseAbandoned(under: target)
            } else if ok { answered += 1 } else { refused += 1 }
            if (n + 1) % 10_000 == 0 { print("index fuzz: \(n + 1 - Self.first) cases from \(Self.first) done") }
        }
        #expect(answered + refused + faults + stalls == max(0, Self.cases - Self.first))
        #expect(Self.cases - Self.first < 100 || (answered > 0 && refused > 0))
        print("index fuzz: seed \(Self.seed), cases \(Self.first)..<\(Self.cases): \(answered) answered, \(refused) refused with an error, \(faults) faults inside LMDB and \(stalls) LMDB calls stuck for 2 s (each the CLI's exit 74), none elsewhere")
    }
}
