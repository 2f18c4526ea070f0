import BinaryCodes
import Encoder
import Foundation

/// Recall of the float top-k under Hamming ranking, with and without rescoring.
public enum VectorEvaluation {
    /// Tie-aware recall@k: for each query, the share of its float top-k (`truth[q].prefix(k)`)
    /// whose Hamming distance is no worse than the k-th smallest distance to the database.
    /// A code tied with the k-th counts as found, because some order of the ties returns it.
    /// - Parameter exclude: per query, a database row left out (the query itself), or nil.
    public static func recall(database: CodeMatrix, queries: CodeMatrix, truth: [[Int32]], k: Int = 10,
                              exclude: [Int]? = nil, threads: Int = SearchOptions.onlineCores) throws -> Double {
        precondition(truth.count == queries.count)
        var perQuery = [Double](repeating: 0, count: queries.count)
        var failure: Error?
        perQuery.withUnsafeMutableBufferPointer { out in
            let workers = max(1, min(threads, queries.count / 16))
            parallelFor(iterations: workers) { w in
                var options = SearchOptions()
                options.threads = 1
                for q in stride(from: w, to: queries.count, by: workers) {
                    do {
                        var distances = try HammingSearch.distances(from: queries[q], to: database, options: options)
                        if let exclude { distances[exclude[q]] = .max }
                        var sorted = distances
                        sorted.sort()
                        let kth = sorted[min(k, sorted.count) - 1]
                        let relevant = truth[q].prefix(k)
                        out[q] = Double(relevant.filter { distances[Int($0)] <= kth }.count) / Double(relevant.count)
                    } catch { failure = error }
                }
            }
        }
        if let failure { throw failure }
        return perQuery.reduce(0, +) / Double(max(1, queries.count))
    }

    /// Recall@k after rescoring, as `VectorIndex` rescores: the `k * oversample * shortlist`
    /// Hamming-nearest codes (ties by row), re-ranked by the asymmetric score of the query's
    /// logits when `shortlist` > 1 (`AsymmetricScorer`), of which the best `k * oversample` are
    /// re-ranked by the similarity of the query (float) with the stored vectors (`storage`);
    /// the top k compared with the float top-k.
    /// - Parameter queryLogits: per query, the encoder's logits (needed when `shortlist` > 1).
    public static func rescoredRecall(database: CodeMatrix, stored: [[UInt8]], storage: VectorStorage, dimensions: Int,
                                      queries: CodeMatrix, queryVectors: [[Float]], metric: VectorMetric,
                                      truth: [[Int32]], k: Int = 10, oversample: Int, shortlist: Int = 1, queryLogits: [[Float]]? = nil,
                                      exclude: [Int]? = nil) throws -> Double {
        precondition(shortlist == 1 || queryLogits?.count == queries.count, "a shortlist needs the queries' logits")
        let rescored = k * oversample
        let lists = try HammingSearch.nearest(queries: queries, in: database, k: rescored * shortlist + (exclude == nil ? 0 : 1))
        var total = 0.0
        for q in 0..<queries.count {
            var candidates = lists[q]
            if let exclude { candidates.removeAll { $0.id == exclude[q] } }
            if shortlist > 1, let queryLogits {
                candidates = database.storage.withUnsafeBufferPointer { all in
                    AsymmetricScorer(logits: queryLogits[q]).shortlist(Array(candidates.prefix(rescored * shortlist)), keep: rescored) {
                        all.baseAddress! + $0 * database.wordsPerCode
                    }
                }
            }
            let ids = candidates.prefix(rescored).map(\.id)
            let query = metric.prepare(queryVectors[q])
            let scored = query.withUnsafeBufferPointer { qp in
                ids.map { id in (id, stored[id].withUnsafeBytes { storage.similarity(qp, $0, metric: metric) }) }
            }
            let top = scored.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.prefix(k).map(\.0)
            let relevant = Set(truth[q].prefix(k).map(Int.init))
            total += Double(top.filter { relevant.contains($0) }.count) / Double(relevant.count)
        }
        return total / Double(max(1, queries.count))
    }

    /// The exact top-`k` database rows of each query by the metric (ties to the lower row).
    /// - Throws: `TrainingError.blasUnavailable`.
    public static func exactNeighbors(database: VectorSet, queries: VectorSet, metric: VectorMetric, k: Int,
                                      exclude: [Int]? = nil, threads: Int = SearchOptions.onlineCores) throws -> [[Int32]] {
        try Dense.load()
        let d = database.dimensions
        let db = VectorBaselines.sample(database, maxRows: database.count, metric: metric).values
        let qs = VectorBaselines.sample(queries, maxRows: queries.count, metric: metric).values
        var out = [[Int32]](repeating: [], count: queries.count)
        let n = database.count
        out.withUnsafeMutableBufferPointer { result in
            let workers = max(1, min(threads, queries.count / 64))
            parallelFor(iterations: workers) { w in
                var sims = [Float](repeating: 0, count: n)
                for q in stride(from: w, to: queries.count, by: workers) {
                    qs.withUnsafeBufferPointer { qp in
                        Dense.gemm(false, true, m: 1, n: n, k: d, qp.baseAddress! + q * d, lda: d, db, ldb: d, &sims, ldc: n)
                    }
                    if let exclude { sims[exclude[q]] = -.infinity }
                    result[q] = (0..<n).sorted { sims[$0] > sims[$1] || (sims[$0] == sims[$1] && $0 < $1) }.prefix(k).map { Int32($0) }
                }
            }
        }
        return out
    }
}

