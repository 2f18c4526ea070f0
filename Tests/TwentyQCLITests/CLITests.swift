import Foundation
import TestSupport
import Testing
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder

/// The real `twentyq` binary against real LMDB directories.
@Suite struct CLITests {
    /// Every command that takes --db defaults to ./twentyq-index, the directory `index` and
    /// `search` use (issue #17: `remove` and `tables` required it).
    @Test func everyCommandDefaultsToTheSameIndex() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        try "{\"id\": \"a\", \"text\": \"space launch\"}\n{\"id\": \"b\", \"text\": \"church faith\"}\n"
            .write(toFile: dir.appending("d.jsonl"), atomically: true, encoding: .utf8)
        let bin = try twentyqBinary()
        let r = try runShell("cd '\(dir.path)' && '\(bin)' index d.jsonl >/dev/null && '\(bin)' remove a && '\(bin)' tables --json >/dev/null && '\(bin)' check && '\(bin)' info")
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("removed 1 document") && r.stdout.contains("twentyq-index: 1 codes") && r.stdout.contains("documents   1"), "\(r.stdout)")
    }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fortunes-200.jsonl").path

    @Test func helpNamesEverySubcommand() throws {
        let result = try runTwentyQ(["--help"])
        #expect(result.status == 0)
        for name in ["info", "remove", "bench"] { #expect(result.stdout.contains(name)) }
        let bench = try runTwentyQ(["bench", "search", "--help"])
        #expect(bench.status == 0 && bench.stdout.contains("--queries") && bench.stdout.contains("--threads"))
    }

    @Test func benchIndexThenInfoThenVerifiedSearch() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = dir.appending("idx")
        let indexed = try runTwentyQ(["bench", "index", "--db", db, "--count", "5000", "--bits", "256", "--batch", "1000", "--json"])
        #expect(indexed.status == 0, "\(indexed.stderr)")
        #expect(try parseJSONObject(indexed.stdout)["added"] as? Int == 5000)

        let info = try parseJSONObject(try runTwentyQ(["info", "--db", db, "--json"]).stdout)
        #expect(info["documents"] as? Int == 5000)
        #expect(info["bits"] as? Int == 256)

        let search = try runTwentyQ(["bench", "search", "--db", db, "--queries", "40", "-k", "10", "--verify", "40", "--json"])
        #expect(search.status == 0, "\(search.stderr)")
        let object = try parseJSONObject(search.stdout)
        #expect(object["verified"] as? Bool == true)
        #expect(object["verified_queries"] as? Int == 40)
        for key in ["count", "bits", "queries", "k", "threads", "seconds", "qps", "codes_per_second", "first_query_seconds"] {
            #expect(object[key] != nil, "missing \(key)")
        }
    }

    @Test func benchSearchInMemoryChecksEveryKernel() throws {
        for kernel in KernelLevel.allCases where kernel.isSupported {
            let result = try runTwentyQ(["bench", "search", "--count", "3000", "--bits", "100", "--queries", "9",
                                         "-k", "7", "--threads", "2", "--kernel", kernel.rawValue, "--verify", "9", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try parseJSONObject(result.stdout)["verified"] as? Bool == true)
        }
    }

    /// TWENTYQ_KERNEL chooses the kernel build that `best` means (what `bench search` reports and
    /// runs, still verified against the reference); a value naming no build, or one this CPU does
    /// not run, stops every command before it starts.
    @Test func kernelChosenByTheEnvironment() throws {
        let binary = try twentyqBinary()
        for kernel in KernelLevel.allCases where kernel.isSupported {
            let result = try runShell("TWENTYQ_KERNEL=\(kernel.rawValue) '\(binary)' bench search --count 3000 --bits 256 --queries 13 -k 7 --verify 13 --json")
            #expect(result.status == 0, "\(result.stderr)")
            let object = try parseJSONObject(result.stdout)
            #expect(object["kernel"] as? String == kernel.rawValue)
            #expect(object["verified"] as? Bool == true)
        }
        for fastest in ["best", ""] {
            let result = try runShell("TWENTYQ_KERNEL='\(fastest)' '\(binary)' bench search --count 300 --bits 64 --queries 3 -k 2 --json")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try parseJSONObject(result.stdout)["kernel"] as? String == KernelLevel.allCases.last(where: \.isSupported)?.rawValue)
        }
        let unknown = try runShell("TWENTYQ_KERNEL=sse9 '\(binary)' info --db /tmp/never-made")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("TWENTYQ_KERNEL=sse9 names no kernel build; use one of portable"), "\(unknown.stderr)")
        if let unsupported = KernelLevel.allCases.first(where: { !$0.isSupported }) {
            let result = try runShell("TWENTYQ_KERNEL=\(unsupported.rawValue) '\(binary)' info --db /tmp/never-made")
            #expect(result.status == 1)
            #expect(result.stderr.contains("this CPU does not run the \(unsupported.rawValue) build"), "\(result.stderr)")
        }
    }

    @Test(arguments: [
        (["bench", "search", "--count", "10", "--bits", "64", "-k", "0"], "-k must be at least 1"),
        (["bench", "search", "--count", "10", "--bits", "64", "--queries", "0"], "--queries must be at least 1"),
        (["bench", "search", "--count", "10", "--bits", "64", "--kernel", "sse9"], "Please provide one of 'best', 'avx512', 'avx2', 'popcnt' or 'portable'"),
        (["train", "--corpus", "x.jsonl", "--weights", "int3", "--out", "m.tqm"], "The value 'int3' is invalid for '--weights <weights>'"),
        (["eval", "--dataset", "msmarco"], "Please provide one of 'cranfield', '20news' or 'reuters'"),
        (["eval", "--dataset", "cranfield", "-k", "0"], "-k must be at least 1 (got 0)"),
        (["eval", "--dataset", "cranfield", "--data", "/tmp/never-made"], "--data /tmp/never-made: no cranfield folder in it"),
        (["eval", "--dataset", "20news", "--data", "/tmp/never-made"], "give --data DIR, the directory that holds 20news/"),
        (["index", "--db", "/tmp/never-made", "--vectors", "v.npy", "--store-vectors", "int4"], "The value 'int4' is invalid for '--store-vectors <format>'"),
        (["bench", "search", "--count", "10", "--bits", "5000"], "--bits must be between 1 and 4096"),
        (["bench", "search", "--queries", "3"], "give --db DIR, or --count N and --bits B"),
        (["bench", "index", "--db", "/tmp/never-made", "--count", "10", "--bits", "64", "--batch", "0"], "--batch must be >= 1"),
        (["remove", "--db", "/tmp/never-made"], "Missing expected argument '<ids> ...'"),
    ])
    func badArgumentsFailWithTheProblemNamed(args: [String], message: String) throws {
        let result = try runTwentyQ(args)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "stderr was: \(result.stderr)")
    }

    @Test func indexProblemsAreNamedAndNothingIsLost() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = dir.appending("idx")
        #expect(try runTwentyQ(["bench", "index", "--db", db, "--count", "50", "--bits", "64"]).status == 0)

        let notIndex = dir.appending("plain")
        try FileManager.default.createDirectory(atPath: notIndex, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: notIndex + "/a.txt", contents: Data("hello".utf8))
        var result = try runTwentyQ(["info", "--db", notIndex])
        #expect(result.status != 0 && result.stderr.contains("is not a TwentyQ index"))

        result = try runTwentyQ(["info", "--db", dir.appending("missing")])
        #expect(result.status != 0 && result.stderr.contains("does not exist"))

        result = try runTwentyQ(["bench", "index", "--db", db, "--count", "60", "--bits", "128"])
        #expect(result.status != 0 && result.stderr.contains("holds 64-bit codes; got a 128-bit code"))

        result = try runTwentyQ(["remove", "--db", db, "3", "no-such-id"])
        #expect(result.status != 0 && result.stderr.contains("no document with id 'no-such-id'"))

        result = try runTwentyQ(["remove", "--db", db, "3", "7"])
        #expect(result.status == 0 && result.stdout.contains("removed 2"))
        #expect(try parseJSONObject(try runTwentyQ(["info", "--db", db, "--json"]).stdout)["documents"] as? Int == 48)
    }

    @Test func aCorruptDataFileGivesAClearError() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = dir.appending("idx")
        #expect(try runTwentyQ(["bench", "index", "--db", db, "--count", "100", "--bits", "64"]).status == 0)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: db + "/data.mdb"))
        try handle.write(contentsOf: Data(repeating: 0x5A, count: 8192))
        try handle.close()
        let result = try runTwentyQ(["info", "--db", db])
        #expect(result.status != 0)
        #expect(result.stderr.contains("is damaged"), "\(result.stderr)")
    }

    /// A read-only directory: a read-only bind mount when running as root (root ignores
    /// permission bits), `chmod` otherwise.
    @Test func aReadOnlyIndexDirectoryRefusesWritesButServesReads() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let source = dir.appending("idx"), readOnly = dir.appending("ro")
        #expect(try runTwentyQ(["bench", "index", "--db", source, "--count", "100", "--bits", "64"]).status == 0)
        var cleanup: () -> Void = {}
        if getuid() == 0 {
            try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false)
            try #require(shell("mount --bind '\(source)' '\(readOnly)' && mount -o remount,bind,ro '\(readOnly)'") == 0)
            cleanup = { _ = shell("umount '\(readOnly)'") }
        } else {
            try FileManager.default.moveItem(atPath: source, toPath: readOnly)
            _ = shell("chmod 0444 '\(readOnly)'/*.mdb && chmod 0555 '\(readOnly)'")
            cleanup = { _ = shell("chmod -R u+w '\(readOnly)'") }
        }
        defer { cleanup() }
        let write = try runTwentyQ(["bench", "index", "--db", readOnly, "--count", "200", "--bits", "64"])
        #expect(write.status != 0)
        #expect(write.stderr.contains("permission denied") || write.stderr.contains("read-only"), "\(write.stderr)")
        let removal = try runTwentyQ(["remove", "--db", readOnly, "1"])
        #expect(removal.status != 0)
        let indexing = try runTwentyQ(["index", "--db", readOnly, CLITests.fixture])
        #expect(indexing.status != 0)
        #expect(indexing.stderr.contains("permission denied") || indexing.stderr.contains("read-only"), "\(indexing.stderr)")
        let info = try runTwentyQ(["info", "--db", readOnly, "--json"])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(try parseJSONObject(info.stdout)["documents"] as? Int == 100)
    }

    /// SIGKILL a writer mid-way, several times: each time the index opens, holds exactly the
    /// committed batches (a multiple of the batch size, each code as generated), a search in
    /// another process kept working during the writes, and a rerun completes the job.
    @Test func aKilledWriterLeavesEveryCommittedBatchAndNothingElse() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let db = dir.appending("idx")
        let target = 400_000, batch = 2_000
        var previous = 0
        for round in 0..<3 {
            let writer = try startTwentyQ(["bench", "index", "--db", db, "--count", "\(target)", "--bits", "64",
                                           "--batch", "\(batch)", "--seed", "7"])
            // Watch the running writer (searching in another process at every look) until it
            // has committed beyond the last round, then kill it. (Not stopped to look: a writer
            // stopped while holding LMDB's reader-table lock would block every reader.)
            var current = previous
            var searches = 0
            while writer.process.isRunning && current <= previous {
                if FileManager.default.fileExists(atPath: db + "/data.mdb") {
                    let search = try runTwentyQ(["bench", "search", "--db", db, "--queries", "4", "-k", "3", "--verify", "1", "--json"])
                    if search.status == 0 {
                        #expect(try parseJSONObject(search.stdout)["verified"] as? Bool == true)
                        current = try parseJSONObject(search.stdout)["count"] as? Int ?? 0
                        searches += 1
                    } else {
                        #expect(search.stderr.contains("does not exist") || search.stderr.contains("no data.mdb") || search.stderr.contains("not a TwentyQ index"),
                                "search failed while writing: \(search.stderr)")
                    }
                }
            }
            let caught = writer.process.isRunning
            writer.killNow()
            try #require(caught && writer.process.terminationReason == .uncaughtSignal,
                         "round \(round): the writer finished 400,000 codes before it was killed")
            #expect(searches > 0)

            let index = try CodeIndex.open(at: db, readOnly: true)
            let count = try index.count
            #expect(count % batch == 0, "round \(round): \(count) codes is not a whole number of batches")
            #expect(count > previous && count < target)
            // Every stored code is the one the generator made for its id; spot-check across the range.
            for i in Set(stride(from: 0, to: count, by: max(1, count / 50))).union([count - 1]) {
                #expect(try index.id(atSlot: i) == String(i))
                #expect(try index.code(for: String(i)) == (try SyntheticCodes.code(index: i, bits: 64, seed: 7)))
            }
            #expect(try index.code(for: String(count)) == nil)
            previous = count
        }
        let rerun = try runTwentyQ(["bench", "index", "--db", db, "--count", "\(target)", "--bits", "64",
                                    "--batch", "\(batch)", "--seed", "7", "--json"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try parseJSONObject(rerun.stdout)["count"] as? Int == target)
    }
}

@discardableResult
func shell(_ command: String) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    try? process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
