import ArgumentParser
import Foundation
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder

struct BenchSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Time exact k-NN search over an index or over random codes in memory.",
        discussion: """
        Queries: the first half are random codes, the second half database codes with about 10% \
        of their bits flipped. A sample of the results (--verify) is checked against the naive \
        reference; a mismatch exits with status 1. Times cover the search alone; with --db, \
        first_query_seconds also covers opening the index.
        """
    )

    @Option(help: ArgumentHelp("Search this index (opened read-only).", valueName: "dir")) var db: String?
    @Option(help: "Without --db: number of random codes to generate in memory.") var count: Int?
    @Option(help: "Without --db: code width in bits.") var bits: Int?
    @Option(help: "Number of queries.") var queries: Int = 1000
    @Option(name: .short, help: "Neighbours per query.") var k: Int = 10
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: "Seed for codes and queries.") var seed: UInt64 = 42
    @Option(help: "Kernel build (best: the best this CPU runs).") var kernel: KernelChoice = .best
    @Option(help: "Queries to check against the naive reference.") var verify: Int = 3
    @Option(help: "Timed runs of the whole batch; the median is reported.") var runs: Int = 1
    @Option(help: "scan (the batch scan), or mih / auto: single queries through multi-index hashing (mih always, auto falling back to the scan when cheaper), timed against single-query scans in the same run.") var method: BenchMethod = .scan
    @Option(help: "mih/auto without --db: substrings per code (default: MultiIndexLayout.defaultSubstrings). With --db the index's own tables answer (see `twentyq tables`).") var substrings: Int?
    @Option(help: ArgumentHelp("With --db: take the queries from this index's codes (its first --queries codes) instead of random and perturbed codes.", valueName: "dir")) var queryDb: String?
    @Option(help: "mih/auto: blocks (each run times every query by the scan, then every query through the tables, or the other way round in alternate runs) or interleaved (query by query: each query through the tables right after its scan, which leaves the caches to the scan's codes).") var order: Order = .blocks
    @Flag(help: "Print one JSON object.") var json = false

    /// How `alternate` orders the single queries of the two methods.
    enum Order: String, ExpressibleByArgument, CaseIterable { case blocks, interleaved }

    func validate() throws {
        if db != nil && (count != nil || bits != nil) {
            throw ValidationError("give either --db or --count with --bits, not both")
        }
        if db == nil && (count == nil || bits == nil) {
            throw ValidationError("give --db DIR, or --count N and --bits B for codes in memory")
        }
        if let count, count < 0 { throw ValidationError("--count must be >= 0 (got \(count))") }
        if let bits, !BinaryCode.supportedBits.contains(bits) {
            throw ValidationError("--bits must be between 1 and 4096 (got \(bits))")
        }
        guard k >= 1 else { throw ValidationError("-k must be at least 1 (got \(k))") }
        guard queries >= 1 else { throw ValidationError("--queries must be at least 1 (got \(queries))") }
        // Codes generated in memory must fit in it: checked before anything is allocated.
        let bytesPerCode = 8 * BinaryCode.wordCount(bits: bits ?? 256)
        let memory = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        for (name, n) in [("--count", count ?? 0), ("--queries", queries)] where n.saturatingProduct(bytesPerCode) > memory / 2 {
            throw ValidationError("\(name) \(n): that many \(bits ?? 256)-bit codes take more than half of this machine's memory (\(memory >> 30) GiB); give fewer")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1 (got \(runs))") }
        if queryDb != nil && db == nil { throw ValidationError("--query-db goes with --db") }
        if let substrings, substrings < 1 { throw ValidationError("--substrings must be at least 1 (got \(substrings))") }
        guard verify >= 0 else { throw ValidationError("--verify must be >= 0 (got \(verify))") }
    }


    func run() throws {
        Stage.begin(db.map { "searching the codes of \($0)" } ?? "making \(count ?? 0) random \(bits ?? 0)-bit codes, then searching them")
        var options = SearchOptions(threads: threads, kernel: kernel.level)
        if threads != nil { options.minPairsForThreads = 0 } // an explicit count is honoured
        if let db {
            try runOnIndex(db, options: options)
        } else {
            let bits = bits!, count = count!
            var words: [UInt64] = []
            words.reserveCapacity(count * BinaryCode.wordCount(bits: bits))
            for i in 0..<count { words += try SyntheticCodes.code(index: i, bits: bits, seed: seed).words }
            let matrix = try CodeMatrix(bits: bits, words: words)
            try matrix.withSlotCodes { codes in
                try measure(codes: codes, options: options, source: "memory", extra: [:])
            }
        }
    }

    private func runOnIndex(_ path: String, options: SearchOptions) throws {
        let opened = Date()
        let index = try CodeIndex.open(at: path, readOnly: true)
        if method != .scan { return try measureStoredMultiIndex(index, path: path) }
        // First query straight after open: the codes come from the memory map, not a heap copy.
        let probe = try index.withCodeBlocks { codes, _ in try makeQueries(codes: codes, count: 1) }
        _ = try index.nearest(to: probe, k: k, options: options)
        let firstQuery = Date().timeIntervalSince(opened)
        try index.withCodeBlocks { codes, _ in
            try measure(codes: codes, options: options, source: "db",
                        extra: ["first_query_seconds": firstQuery, "db": path])
        }
    }

    /// Half random codes, half perturbed database codes (10% of bits flipped).
    private func makeQueries(codes: SlotCodes, count n: Int) throws -> CodeMatrix {
        var rng = SeededGenerator(seed: seed &+ 0x5157)
        let bits = codes.bits
        var matrix = try CodeMatrix(bits: bits)
        let total = codes.count
        for q in 0..<n {
            if q < (n + 1) / 2 || total == 0 {
                try matrix.append(try BinaryCode.random(bits: bits, using: &rng))
            } else {
                let slot = Int(rng.next() % UInt64(total))
                let base = try BinaryCode(bits: bits, words: Array(UnsafeBufferPointer(start: codes.pointer(slot), count: codes.words)))
                try matrix.append(SyntheticCodes.perturbed(base, flips: max(1, bits / 10), using: &rng))
            }
        }
        return matrix
    }

    private func measure(codes: SlotCodes, options: SearchOptions, source: String, extra: [String: Any]) throws {
        if method != .scan { return try measureMultiIndex(codes: codes, source: source, extra: extra) }
        let (bits, count) = (codes.bits, codes.count)
        let queryCodes = try makeQueries(codes: codes, count: queries)
        var times: [Double] = []
        var results: [[Neighbor]] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            results = HammingSearch.nearest(queries: queryCodes, in: codes, k: k, options: options)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let seconds = times.sorted()[times.count / 2]

        // Check a spread sample (random and perturbed queries) against the reference.
        let sample = Set((0..<min(verify, queries)).map { $0 * queries / max(1, min(verify, queries)) + (queries / max(1, min(verify, queries))) / 2 })
        var mismatches: [Int] = []
        for q in sample.sorted() where HammingReference.nearest(to: queryCodes[q], blocks: codes.blocks, k: k) != results[q] {
            mismatches.append(q)
        }
        let verified = mismatches.isEmpty
        let usedThreads = count * queries >= options.minPairsForThreads ? options.threads : 1
        var object: [String: Any] = [
            "count": count, "bits": bits, "queries": queries, "k": k, "threads": usedThreads,
            "kernel": options.kernel.rawValue, "seconds": seconds, "runs": times,
            "qps": Double(queries) / seconds, "codes_per_second": Double(count) * Double(queries) / seconds,
            "verified": verified, "verified_queries": sample.count, "source": source,
        ]
        object.merge(extra) { a, _ in a }
        if json {
            print(try jsonLine(object))
        } else {
            print(String(format: "%d x %d-bit codes, %d queries, k=%d, %d thread(s), %@ kernel: %.4f s, %.0f queries/s, %.3f G codes/s, verified %@",
                         count, bits, queries, k, usedThreads, options.kernel.rawValue, seconds,
                         Double(queries) / seconds, Double(count) * Double(queries) / seconds / 1e9,
                         verified ? "yes" : "NO"))
        }
        if !verified {
            throw CommandFailure("search results differ from the naive reference for queries \(mismatches)")
        }
    }

    /// The queries: from --query-db, or half random, half perturbed codes of the index.
    private func queryCodes(_ index: CodeIndex) throws -> CodeMatrix {
        guard let queryDb else { return try index.withCodeBlocks { codes, _ in try makeQueries(codes: codes, count: queries) } }
        let source = try CodeIndex.open(at: queryDb, readOnly: true)
        guard source.bits == index.bits else {
            throw ValidationError("--query-db holds \(source.bits)-bit codes; the index holds \(index.bits)-bit codes")
        }
        return try source.withCodeBlocks { codes, _ in
            var matrix = try CodeMatrix(bits: index.bits)
            for block in codes.blocks where matrix.count < queries {
                for i in 0 ..< min(block.count, queries - matrix.count) {
                    try matrix.append(BinaryCode(bits: index.bits, words: Array(UnsafeBufferPointer(start: block.words! + i * index.wordsPerCode, count: index.wordsPerCode))))
                }
            }
            return matrix
        }
    }

    /// Single queries through the index's own tables (LMDB) against single-query scans of the
    /// same index, same queries, alternating; every result compared with the scan's.
    private func measureStoredMultiIndex(_ index: CodeIndex, path: String) throws {
        let status = try index.multiIndexStatus()
        guard status.built else {
            throw ValidationError("the index at \(path) has no multi-index tables (\(try index.count) codes; tables appear from \(status.settings.minimumCount) codes when enabled): see `twentyq tables --db \(path)`")
        }
        let queryCodes = try queryCodes(index)
        var scanOptions = SearchOptions(kernel: kernel.level)
        scanOptions.multiIndex = .off
        var mihOptions = scanOptions
        mihOptions.multiIndex = method == .mih ? .always : .auto
        let report = SearchReport()
        mihOptions.report = report
        let result = try Self.alternate(queries: queryCodes.count, runs: runs, order: order, scan: { q in
            try index.nearest(to: CodeMatrix(bits: index.bits, words: queryCodes[q].words), k: k, options: scanOptions)
        }, tables: { q in
            (try index.nearest(to: CodeMatrix(bits: index.bits, words: queryCodes[q].words), k: k, options: mihOptions), report.plans)
        })
        let viaTables = result.plans.filter { $0.method == .multiIndex }
        let sortedLatencies = result.latencies.sorted()
        var object: [String: Any] = [
            "count": try index.count, "bits": index.bits, "queries": queryCodes.count, "k": k, "method": method.rawValue, "source": "db", "db": path,
            "query_source": queryDb ?? "random and perturbed",
            "substrings": status.substrings, "substring_bits": status.substringBits, "table_bytes": status.tableBytes,
            "pending": status.pending, "file_bytes": try index.info().fileBytes,
            "mih_latency_p50_ms": 1000 * sortedLatencies[sortedLatencies.count / 2],
            "mih_latency_p99_ms": 1000 * sortedLatencies[min(sortedLatencies.count - 1, sortedLatencies.count * 99 / 100)],
            "mean_probes_by_tables": viaTables.isEmpty ? 0 : Double(viaTables.reduce(0) { $0 + $1.probes }) / Double(viaTables.count),
            "runs": runs, "order": order.rawValue,
        ]
        object.merge(result.fields) { a, _ in a }
        if json {
            print(try jsonLine(object))
        } else {
            print(result.line(count: try index.count, bits: index.bits, k: k, substrings: status.substrings, method: method.rawValue))
        }
        let mismatches = result.mismatches
        if mismatches > 0 { throw CommandFailure("\(mismatches) queries got other results through the tables than from the scan") }
    }

    /// Single queries through multi-index hashing against single-query scans, same queries,
    /// alternating; every result compared with the scan's.
    private func measureMultiIndex(codes: SlotCodes, source: String, extra: [String: Any]) throws {
        let (bits, count) = (codes.bits, codes.count)
        var words: [UInt64] = []
        words.reserveCapacity(count * codes.words)
        for b in codes.blocks where b.count > 0 { words += UnsafeBufferPointer(start: b.words!, count: b.count * codes.words) }
        let matrix = try CodeMatrix(bits: bits, words: words)
        let buildStart = DispatchTime.now().uptimeNanoseconds
        let index = MultiIndex(matrix, substrings: substrings)
        let buildSeconds = Double(DispatchTime.now().uptimeNanoseconds - buildStart) / 1e9
        let queryCodes = try makeQueries(codes: codes, count: queries)
        var options = SearchOptions(threads: 1, kernel: kernel.level)
        options.minPairsForThreads = .max
        let budget = method == .mih ? Double.infinity : 0.5
        let result = try Self.alternate(queries: queryCodes.count, runs: runs, order: order, scan: { q in
            HammingSearch.nearest(queries: try CodeMatrix(bits: bits, words: queryCodes[q].words), in: codes, k: k, options: options)[0]
        }, tables: { q in
            let (found, plan) = try index.nearest(to: queryCodes[q], k: k, budget: budget)
            return (found, [plan])
        })
        var object: [String: Any] = [
            "count": count, "bits": bits, "queries": queries, "k": k, "method": method.rawValue, "source": source,
            "substrings": index.substrings.count, "substring_bits": index.substrings.map(\.length),
            "build_seconds": buildSeconds, "table_bytes": index.tableBytes, "runs": runs, "order": order.rawValue,
        ]
        object.merge(result.fields) { a, _ in a }
        object.merge(extra) { a, _ in a }
        if json {
            print(try jsonLine(object))
        } else {
            print(result.line(count: count, bits: bits, k: k, substrings: index.substrings.count, method: method.rawValue))
        }
        let mismatches = result.mismatches
        if mismatches > 0 { throw CommandFailure("\(mismatches) multi-index results differ from the scan's") }
    }

    /// What `alternate` measured: the median run's total seconds each way, and the plans and
    /// per-query latencies through the tables of the last run.
    struct Comparison {
        let queries: Int
        let tablesSeconds: Double
        let scanSeconds: Double
        let plans: [MultiIndexPlan]
        let latencies: [Double]
        let mismatches: Int

        /// The JSON fields both kinds of run report.
        var fields: [String: Any] {
            let viaTables = plans.filter { $0.method == .multiIndex }
            return [
                "mih_qps": Double(queries) / tablesSeconds, "scan_qps": Double(queries) / scanSeconds, "speedup": scanSeconds / tablesSeconds,
                "answered_by_tables": viaTables.count, "answered_by_scan": plans.count - viaTables.count,
                "mean_candidates_by_tables": viaTables.isEmpty ? 0 : Double(viaTables.reduce(0) { $0 + $1.candidates }) / Double(viaTables.count),
                "identical_to_scan": mismatches == 0,
            ]
        }

        func line(count: Int, bits: Int, k: Int, substrings: Int, method: String) -> String {
            let viaTables = plans.filter { $0.method == .multiIndex }.count
            return String(format: "%d x %d-bit codes, %d single queries, k=%d, m=%d: %@ %.0f queries/s, scan %.0f queries/s (%.2fx); %d answered by the tables, %d by the scan; identical %@",
                          count, bits, queries, k, substrings, method, Double(queries) / tablesSeconds, Double(queries) / scanSeconds,
                          scanSeconds / tablesSeconds, viaTables, plans.count - viaTables, mismatches == 0 ? "yes" : "NO")
        }
    }

    /// Times each query through `tables` (which also returns its plans) against `scan`,
    /// alternating query by query, for `runs` runs; counts the answers that differ.
    static func alternate<R: Equatable>(queries: Int, runs: Int, order: Order, scan: (Int) throws -> R,
                                        tables: (Int) throws -> (R, [MultiIndexPlan])) throws -> Comparison {
        var tablesTimes: [Double] = [], scanTimes: [Double] = []
        var plans: [MultiIndexPlan] = [], latencies: [Double] = []
        var mismatches = 0
        for run in 0..<runs {
            var tablesTotal = 0.0, scanTotal = 0.0
            plans = []
            latencies = []
            if order == .interleaved {
                for q in 0..<queries {
                    var t = DispatchTime.now().uptimeNanoseconds
                    let scanned = try scan(q)
                    scanTotal += Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
                    t = DispatchTime.now().uptimeNanoseconds
                    let (found, queryPlans) = try tables(q)
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
                    tablesTotal += seconds
                    latencies.append(seconds)
                    plans += queryPlans
                    if found != scanned { mismatches += 1 }
                }
            } else {
                var scanned: [R] = [], found: [R] = []
                scanned.reserveCapacity(queries)
                found.reserveCapacity(queries)
                func scanAll() throws {
                    let t = DispatchTime.now().uptimeNanoseconds
                    for q in 0..<queries { scanned.append(try scan(q)) }
                    scanTotal = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
                }
                func tablesAll() throws {
                    for q in 0..<queries {
                        let t = DispatchTime.now().uptimeNanoseconds
                        let (answer, queryPlans) = try tables(q)
                        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
                        tablesTotal += seconds
                        latencies.append(seconds)
                        plans += queryPlans
                        found.append(answer)
                    }
                }
                // Which goes first alternates from run to run.
                if run % 2 == 0 { try scanAll(); try tablesAll() } else { try tablesAll(); try scanAll() }
                mismatches += zip(found, scanned).filter { $0 != $1 }.count
            }
            tablesTimes.append(tablesTotal)
            scanTimes.append(scanTotal)
        }
        return Comparison(queries: queries, tablesSeconds: tablesTimes.sorted()[runs / 2], scanSeconds: scanTimes.sorted()[runs / 2],
                          plans: plans, latencies: latencies, mismatches: mismatches)
    }
}

/// `bench search --kernel`: a kernel build, or the best this CPU runs.
enum KernelChoice: String, CaseIterable, ExpressibleByArgument {
    case best, avx512, avx2, popcnt, portable

    var level: KernelLevel {
        switch self {
        case .best: return .best
        case .avx512: return .avx512
        case .avx2: return .avx2
        case .popcnt: return .popcnt
        case .portable: return .portable
        }
    }
}

/// `bench search --method`.
enum BenchMethod: String, CaseIterable, ExpressibleByArgument {
    case scan, mih, auto
}
