import ArgumentParser
import Foundation
import TwentyQ

struct BenchVectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Time single-query vector search (Hamming candidates, then rescoring) on a vector index.",
        discussion: """
        Opens --db read-only and answers each row of --queries on its own, one after another, as an \
        app would: encode, scan every code for the k x oversample Hamming-nearest, read their stored \
        vectors and re-rank by exact similarity. Reports the median, 95th percentile and mean \
        latency; first_query_ms also covers opening the index.
        """
    )

    @Option(help: ArgumentHelp("Vector index (made by `index --vectors`).", valueName: "dir")) var db: String
    @Option(help: ArgumentHelp("Query vectors (npy, fvecs or JSONL).", valueName: "file")) var queries: String
    @Option(name: .short, help: "Results per query.") var k: Int = 10
    @Option(help: "Candidates per result to rescore.") var oversample: Int = 4
    @Option(help: "Hamming-nearest codes per rescored candidate for the asymmetric shortlist (1: none).") var shortlist: Int = VectorIndex.defaultShortlist
    @Flag(inversion: .prefixedNo, help: "Rescore with the stored vectors.") var rescore = true
    @Option(help: "Use the first N queries.") var limit: Int?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard k >= 1, oversample >= 1, shortlist >= 1 else { throw ValidationError("-k, --oversample and --shortlist must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1 (got \(limit))") }
    }

    func run() throws {
        let openStart = Date()
        let index = try VectorIndex.open(at: db, readOnly: true)
        let set = try VectorFile.read(queries, dimensions: index.dimensions)
        let n = min(set.count, limit ?? set.count)
        _ = try index.search(set.row(0), k: k, rescore: rescore, oversample: oversample, shortlist: shortlist)
        let firstQuery = Date().timeIntervalSince(openStart)
        var latencies: [Double] = []
        latencies.reserveCapacity(n)
        for q in 0..<n {
            let row = set.row(q)
            let start = DispatchTime.now().uptimeNanoseconds
            let hits = try index.search(row, k: k, rescore: rescore, oversample: oversample, shortlist: shortlist)
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            if hits.count != min(k, try index.count) { throw CommandFailure("query \(q) returned \(hits.count) hits") }
        }
        latencies.sort()
        let median = latencies[n / 2], p95 = latencies[min(n - 1, n * 95 / 100)], mean = latencies.reduce(0, +) / Double(n)
        let summary: [String: Any] = [
            "db": db, "vectors": try index.count, "bits": index.model.bits, "dimensions": index.dimensions,
            "stored_vectors": index.settings.storage?.rawValue ?? "none", "rescore": rescore, "k": k, "oversample": oversample, "shortlist": shortlist,
            "queries": n, "median_ms": median, "p95_ms": p95, "mean_ms": mean, "first_query_ms": firstQuery * 1000,
        ]
        if json { print(try jsonLine(summary)); return }
        print(String(format: "%d single queries over %d vectors: median %.2f ms, p95 %.2f ms, mean %.2f ms (first query with open %.1f ms)",
                     n, try index.count, median, p95, mean, firstQuery * 1000))
    }
}
