import BinaryCodes
import Encoder
import Foundation
import Ingest

/// Retrieval quality under the semantic-hashing protocol: precision of the top k database
/// documents for each query, relevant = shares a label, averaged over queries.
public enum RetrievalEvaluation {
    /// Label sets as bit masks (up to 64 distinct labels), in a shared label numbering.
    public static func labelMasks(_ train: [CorpusDocument], _ test: [CorpusDocument]) -> ([UInt64], [UInt64]) {
        var numbering: [String: Int] = [:]
        for label in Set((train + test).flatMap(\.labels)).sorted() where numbering.count < 64 { numbering[label] = numbering.count }
        func mask(_ d: CorpusDocument) -> UInt64 { d.labels.reduce(0) { $0 | (numbering[$1].map { 1 << UInt64($0) } ?? 0) } }
        return (train.map(mask), test.map(mask))
    }

    /// Mean precision@k under Hamming ranking. Ties: the documents at the k-th distance are in
    /// no meaningful order, so the precision counted is its expectation over all their orders:
    /// relevant strictly closer + (places left) x (share relevant among those at the k-th distance).
    public static func hammingPrecision(database: CodeMatrix, dbLabels: [UInt64], queries: CodeMatrix,
                                        queryLabels: [UInt64], k: Int = 100, threads: Int = SearchOptions.onlineCores) -> Double {
        let n = database.count, bits = database.bits
        let kk = min(k, n)
        var sums = [Double](repeating: 0, count: queries.count)
        sums.withUnsafeMutableBufferPointer { out in
            let workers = max(1, min(threads, queries.count / 64))
            parallelFor(iterations: workers) { w in
                var total = [Int](repeating: 0, count: bits + 1), relevant = [Int](repeating: 0, count: bits + 1)
                for q in stride(from: w, to: queries.count, by: workers) {
                    let d = try! HammingSearch.distances(from: queries[q], to: database, options: SearchOptions(threads: 1))
                    for i in 0..<(bits + 1) { total[i] = 0; relevant[i] = 0 }
                    for i in 0..<n {
                        total[Int(d[i])] += 1
                        if dbLabels[i] & queryLabels[q] != 0 { relevant[Int(d[i])] += 1 }
                    }
                    var taken = 0, hits = 0.0, dist = 0
                    while taken < kk {
                        let room = kk - taken
                        if total[dist] <= room {
                            taken += total[dist]; hits += Double(relevant[dist])
                        } else {
                            hits += Double(room) * Double(relevant[dist]) / Double(total[dist]); taken = kk
                        }
                        dist += 1
                    }
                    out[q] = hits / Double(kk)
                }
            }
        }
        return sums.reduce(0, +) / Double(max(1, queries.count))
    }

    /// Mean precision@k under exact cosine of unit-length sparse vectors (ties broken by
    /// database order; with float scores they are rare).
    public static func cosinePrecision(database: [SparseVector], dbLabels: [UInt64], queries: [SparseVector],
                                       queryLabels: [UInt64], dimension: Int, k: Int = 100,
                                       threads: Int = SearchOptions.onlineCores) -> Double {
        // Inverted index: term -> (doc, weight).
        var postings = [[(Int32, Float)]](repeating: [], count: dimension)
        for (i, v) in database.enumerated() { for (t, x) in zip(v.indices, v.values) { postings[Int(t)].append((Int32(i), x)) } }
        let kk = min(k, database.count)
        var sums = [Double](repeating: 0, count: queries.count)
        sums.withUnsafeMutableBufferPointer { out in
            let workers = max(1, min(threads, queries.count / 64))
            parallelFor(iterations: workers) { w in
                var scores = [Float](repeating: 0, count: database.count)
                for q in stride(from: w, to: queries.count, by: workers) {
                    for i in scores.indices { scores[i] = 0 }
                    for (t, x) in zip(queries[q].indices, queries[q].values) {
                        for (doc, y) in postings[Int(t)] { scores[Int(doc)] += x * y }
                    }
                    let top = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(kk)
                    out[q] = Double(top.filter { dbLabels[$0] & queryLabels[q] != 0 }.count) / Double(kk)
                }
            }
        }
        return sums.reduce(0, +) / Double(max(1, queries.count))
    }

    /// Random-hyperplane LSH (Charikar 2002) of sparse vectors: bit b = (x . r_b > 0), r_b Gaussian.
    public static func lshCodes(_ vectors: [SparseVector], dimension: Int, bits: Int, seed: UInt64) throws -> CodeMatrix {
        var rng = SeededGenerator(seed: seed)
        let planes = (0..<(dimension * bits)).map { _ in rng.normal() } // [term][bit]
        var words: [UInt64] = []
        let wordsPerCode = BinaryCode.wordCount(bits: bits)
        words.reserveCapacity(vectors.count * wordsPerCode)
        var dots = [Float](repeating: 0, count: bits)
        for v in vectors {
            for b in 0..<bits { dots[b] = 0 }
            for (t, x) in zip(v.indices, v.values) { for b in 0..<bits { dots[b] += x * planes[Int(t) * bits + b] } }
            var code = [UInt64](repeating: 0, count: wordsPerCode)
            for b in 0..<bits where dots[b] > 0 { code[b / 64] |= 1 << UInt64(b % 64) }
            words += code
        }
        return try CodeMatrix(bits: bits, words: words)
    }

    /// Codes of `texts` by `model`, as a matrix.
    public static func codes(_ model: EncoderModel, texts: [String]) throws -> CodeMatrix {
        try CodeMatrix(bits: model.bits, words: model.encode(texts).flatMap(\.words))
    }
}
