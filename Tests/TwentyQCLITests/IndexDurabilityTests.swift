import Foundation
import TestSupport
import Testing
import TwentyQ

/// SIGKILL during `twentyq index`, at seeded moments chosen by what has been committed (never
/// by the clock): the test watches the committed count while the indexer runs and kills it as
/// soon as the count reaches a seeded target. (It does not stop the indexer to look: a process
/// stopped while it holds LMDB's reader-table lock would block the look forever.)
@Suite struct IndexDurabilityTests {
    @Test func killingTheIndexerLeavesWholeBatchesAndARerunFinishes() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let words = ["space", "orbit", "god", "church", "car", "engine", "hockey", "game", "disk", "windows", "law", "doctor"]
        var rng = SeededGenerator(seed: 21)
        let count = 20_000, batch = 250, rounds = 12
        var lines = ""
        var texts: [String] = []
        for i in 0..<count {
            let text = (0..<6).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ") + " \(i)"
            texts.append(text)
            lines += "{\"id\": \"d\(i)\", \"text\": \"\(text)\"}\n"
        }
        let corpus = dir.appending("corpus.jsonl"), db = dir.appending("idx"), modelPath = dir.appending("m.tqm")
        try lines.write(toFile: corpus, atomically: true, encoding: .utf8)
        let model = randomModel(bits: 64, hidden: 32)
        try ModelFile.write(model, to: modelPath)

        /// Documents committed so far (0 before the index has its first batch).
        func committed() -> Int {
            guard let index = try? CodeIndex.open(at: db, readOnly: true) else { return 0 }
            return (try? index.count) ?? 0
        }
        var stored = 0, midway = 0, searched = 0
        for round in 0..<rounds {
            // At most 4 batches a round, 12 rounds: the kill always leaves work undone.
            let target = stored + batch * (1 + Int(rng.next() % 4))
            let indexer = try startTwentyQ(["index", "--db", db, "--model", modelPath, "--batch", "\(batch)", corpus])
            while indexer.process.isRunning && committed() < target { usleep(2_000) }
            if indexer.process.isRunning, round % 3 == 0 {
                // A reader beside a running writer answers.
                let search = try runTwentyQ(["search", "--db", db, "-k", "3", "--json", "space orbit"])
                #expect(search.status == 0, "\(search.stderr)")
                searched += 1
            }
            indexer.killNow()
            // Killed while at work, or ended on its own (then everything was indexed).
            let caught = indexer.process.terminationReason == .uncaughtSignal
            let index = try DocumentIndex.open(at: db, readOnly: true)
            let now = try index.count
            #expect(now % batch == 0, "round \(round): \(now) documents is not whole batches")
            // The term statistics were committed with the codes: one term record per document.
            #expect(try index.store.termStatistics().documents == now, "round \(round)")
            #expect(now >= (caught ? target : stored), "round \(round): \(now) documents, \(target) were committed")
            if caught { midway += 1; #expect(now < count) }
            // Exactly the first `now` documents, each with the code its text gives.
            for i in Set([0, now / 2, now - 1, now].filter { $0 >= 0 && $0 <= count - 1 }) {
                let code = try index.store.code(for: "d\(i)")
                if i < now {
                    #expect(code == model.encode(texts[i]), "round \(round): d\(i)")
                } else {
                    #expect(code == nil, "round \(round): d\(i) stored beyond the committed prefix")
                }
            }
            stored = now
        }
        // A round is missed only if the indexer ran its remaining 8,000 or more documents
        // between the look that saw the target and the kill.
        #expect(midway >= 1, "no kill landed while indexing was under way")
        #expect(searched >= 1)
        let rerun = try runTwentyQ(["index", "--db", db, "--batch", "\(batch)", corpus, "--json"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try parseJSONObject(rerun.stdout)["documents"] as? Int == count)
    }
}

@Suite struct FullDiskTests {
    /// A 2 MiB tmpfs (mounting needs root, which CI has): indexing more than fits stops with a
    /// disk-full message, and the index still opens with every committed batch.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func aFullDiskStopsIndexingCleanly() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let mountPoint = dir.appending("tiny")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        try #require(runShell("mount -t tmpfs -o size=2m tmpfs '\(mountPoint)'").status == 0)
        defer { _ = try? runShell("umount '\(mountPoint)'") }
        var lines = ""
        for i in 0..<12_000 { lines += "{\"id\": \"d\(i)\", \"text\": \"document \(i) about space orbit and hockey games number \(i * 7)\"}\n" }
        let corpus = dir.appending("c.jsonl"), model = dir.appending("m.tqm")
        try lines.write(toFile: corpus, atomically: true, encoding: .utf8)
        try ModelFile.write(randomModel(bits: 256, hidden: 32), to: model)
        let r = try runTwentyQ(["index", "--db", mountPoint + "/idx", "--model", model, "--batch", "500", corpus])
        #expect(r.status != 0)
        #expect(r.stderr.contains("no space left on the device"), "\(r.stderr)")
        let stored = try CodeIndex.open(at: mountPoint + "/idx", readOnly: true).count
        #expect(stored > 0 && stored < 12_000 && stored % 500 == 0, "\(stored)")
    }
}

@Suite struct LargeDocumentTests {
    /// A 100 MB document is indexed (the featurizer reads its first 5,000 tokens) and found by
    /// its beginning.
    @Test func aHundredMegabyteDocumentIsIndexed() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.appending("docs"), withIntermediateDirectories: false)
        let head = "NASA launched the space shuttle into orbit. "
        var body = Data(head.utf8)
        let filler = Data(String(repeating: "hockey game team season playoffs ", count: 32_768).utf8) // 1 MiB
        while body.count < 100_000_000 { body.append(filler) }
        try body.write(to: URL(fileURLWithPath: dir.appending("docs/big.txt")))
        try "NASA launched the space shuttle into orbit.".write(toFile: dir.appending("docs/small.txt"), atomically: true, encoding: .utf8)
        let model = dir.appending("m.tqm")
        try ModelFile.write(randomModel(bits: 64, hidden: 32), to: model)
        let r = try runTwentyQ(["index", "--db", dir.appending("idx"), "--model", model, dir.appending("docs"), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try parseJSONObject(r.stdout)["added"] as? Int == 2)
        let search = try runTwentyQ(["search", "--db", dir.appending("idx"), "--like", "big.txt", "-k", "2", "--json"])
        let ids = (try parseJSONObject(search.stdout)["results"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(ids?.first == "big.txt")
    }
}
