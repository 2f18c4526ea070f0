import ArgumentParser
import Foundation
import TwentyQ

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
    @Option(help: "Kernel build: best, avx2, popcnt or portable.") var kernel: String = "best"
    @Option(help: "Queries to check against the naive reference.") var verify: Int = 3
    @Option(help: "Timed runs of the whole batch; the median is reported.") var runs: Int = 1
    @Flag(help: "Print one JSON object.") var json = false

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
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1 (got \(runs))") }
        guard verify >= 0 else { throw ValidationError("--verify must be >= 0 (got \(verify))") }
        guard kernelLevel != nil else {
            throw ValidationError("--kernel must be one of best, \(KernelLevel.allCases.map(\.rawValue).joined(separator: ", ")) (got \(kernel))")
        }
    }

    var kernelLevel: KernelLevel? { kernel == "best" ? .best : KernelLevel(rawValue: kernel) }

    func run() throws {
        var options = SearchOptions(threads: threads, kernel: kernelLevel!)
        if threads != nil { options.minPairsForThreads = 0 } // an explicit count is honoured
        if let db {
            try runOnIndex(db, options: options)
        } else {
            let bits = bits!, count = count!
            var words: [UInt64] = []
            words.reserveCapacity(count * BinaryCode.wordCount(bits: bits))
            for i in 0..<count { words += try SyntheticCodes.code(index: i, bits: bits, seed: seed).words }
            let matrix = try CodeMatrix(bits: bits, words: words)
            try matrix.withBlock { block in
                try measure(blocks: [block], bits: bits, count: count, options: options, source: "memory", extra: [:])
            }
        }
    }

    private func runOnIndex(_ path: String, options: SearchOptions) throws {
        let opened = Date()
        let index = try CodeIndex.open(at: path, readOnly: true)
        // First query straight after open: the codes come from the memory map, not a heap copy.
        let probe = try index.withCodeBlocks { blocks, _ in try makeQueries(blocks: blocks, bits: index.bits, count: 1) }
        _ = try index.nearest(to: probe, k: k, options: options)
        let firstQuery = Date().timeIntervalSince(opened)
        try index.withCodeBlocks { blocks, _ in
            let count = blocks.reduce(0) { $0 + $1.count }
            try measure(blocks: blocks, bits: index.bits, count: count, options: options, source: "db",
                        extra: ["first_query_seconds": firstQuery, "db": path])
        }
    }

    /// Half random codes, half perturbed database codes (10% of bits flipped).
    private func makeQueries(blocks: [CodeBlock], bits: Int, count n: Int) throws -> CodeMatrix {
        var rng = SeededGenerator(seed: seed &+ 0x5157)
        var matrix = try CodeMatrix(bits: bits)
        let total = blocks.reduce(0) { $0 + $1.count }
        let words = BinaryCode.wordCount(bits: bits)
        for q in 0..<n {
            if q < (n + 1) / 2 || total == 0 {
                try matrix.append(try BinaryCode.random(bits: bits, using: &rng))
            } else {
                var slot = Int(rng.next() % UInt64(total))
                var block = blocks[0]
                for b in blocks { if slot < b.count { block = b; break }; slot -= b.count }
                let base = try BinaryCode(bits: bits, words: Array(UnsafeBufferPointer(start: block.words! + slot * words, count: words)))
                try matrix.append(SyntheticCodes.perturbed(base, flips: max(1, bits / 10), using: &rng))
            }
        }
        return matrix
    }

    private func measure(blocks: [CodeBlock], bits: Int, count: Int, options: SearchOptions, source: String,
                         extra: [String: Any]) throws {
        let queryCodes = try makeQueries(blocks: blocks, bits: bits, count: queries)
        var times: [Double] = []
        var results: [[Neighbor]] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            results = try HammingSearch.nearest(queries: queryCodes, blocks: blocks, bits: bits, k: k, options: options)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let seconds = times.sorted()[times.count / 2]

        // Check a spread sample (random and perturbed queries) against the reference.
        let sample = Set((0..<min(verify, queries)).map { $0 * queries / max(1, min(verify, queries)) + (queries / max(1, min(verify, queries))) / 2 })
        var mismatches: [Int] = []
        for q in sample.sorted() where HammingReference.nearest(to: queryCodes[q], blocks: blocks, k: k) != results[q] {
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
            throw ValidationError("search results differ from the naive reference for queries \(mismatches)")
        }
    }
}
