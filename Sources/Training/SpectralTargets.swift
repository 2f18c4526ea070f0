import BinaryCodes
import Encoder
import Foundation

/// Target bits for self-taught hashing (Zhang, Wang, Cai and Lu, "Self-Taught Hashing for Fast
/// Similarity Search", SIGIR 2010), made without labels:
/// 1. a k-nearest-neighbour graph of the corpus under TF-IDF cosine, symmetrised;
/// 2. the leading eigenvectors of its normalised adjacency D^-1/2 W D^-1/2 (a Laplacian
///    eigenmap), the trivial first one skipped, by subspace iteration;
/// 3. each eigenvector thresholded at its median, so every target bit splits the corpus in half.
/// The encoder then learns to predict these bits from a document's words.
enum SpectralTargets {
    /// `bits` target bits per document (row-major, 0 or 1), deterministic for a seed.
    /// With `itq`, the embedding is first rotated by iterative quantisation.
    /// `stages` is told as each stage begins.
    static func make(_ features: [SparseVector], vocabularySize: Int, bits: Int, neighbors: Int,
                     iterations: Int, itq: Bool, seed: UInt64, threads: Int, stages: (TrainingStage) -> Void = { _ in }) -> [Float] {
        stages(.neighbourGraph(documents: features.count, neighbours: neighbors))
        let graph = knnGraph(features, dimension: vocabularySize, k: neighbors, threads: threads)
        stages(.eigenvectors(count: bits + 1, iterations: iterations))
        let vectors = leadingEigenvectors(graph, count: bits + 1, iterations: iterations, seed: seed, threads: threads) { done in
            stages(.eigenvectorIterations(done: done, of: iterations))
        }
        let n = features.count
        var embedding = Array(vectors[n ..< ((bits + 1) * n)]) // column-major n x bits, trivial vector dropped
        if itq {
            stages(.rotation(iterations: 50))
            embedding = itqRotate(embedding, n: n, m: bits, iterations: 50, seed: seed)
        }
        var targets = [Float](repeating: 0, count: n * bits)
        for b in 0..<bits {
            let column = Array(embedding[(b * n) ..< ((b + 1) * n)])
            let median = column.sorted()[n / 2]
            for i in 0..<n where column[i] > median { targets[i * bits + b] = 1 }
        }
        return targets
    }

    /// Iterative quantisation (Gong and Lazebnik, CVPR 2011): the rotation R minimising
    /// ||sign(Y R) - Y R||, alternating B = sign(Y R) and R = polar(Y^T B). Returns Y R
    /// (column-major n x m) with columns centred first.
    static func itqRotate(_ y: [Float], n: Int, m: Int, iterations: Int, seed: UInt64) -> [Float] {
        var y = y
        for c in 0..<m {
            let mean = y[(c * n) ..< ((c + 1) * n)].reduce(0, +) / Float(n)
            for i in 0..<n { y[c * n + i] -= mean }
        }
        var rng = SeededGenerator(seed: seed ^ 0x1717)
        var r = (0..<(m * m)).map { _ in rng.normal() } // column-major m x m
        orthonormalize(&r, n: m, m: m)
        var rotated = [Float](repeating: 0, count: n * m), signs = [Float](repeating: 0, count: n * m)
        var cross = [Float](repeating: 0, count: m * m)
        for _ in 0..<iterations {
            // Read as row-major, the stored r is Q = R^T and y is Y^T (m x n); Q Y^T = (Y R)^T is
            // the rotated embedding in column-major storage.
            Dense.gemm(false, false, m: m, n: n, k: m, r, lda: m, y, ldb: n, rotated.withUnsafeMutableBufferPointer { $0.baseAddress! }, ldc: n)
            for i in 0..<(n * m) { signs[i] = rotated[i] >= 0 ? 1 : -1 }
            // cross = B^T Y (row-major m x m), and Q = R^T = polar(Y^T B)^T = polar(B^T Y).
            Dense.gemm(false, true, m: m, n: m, k: n, signs, lda: n, y, ldb: n, cross.withUnsafeMutableBufferPointer { $0.baseAddress! }, ldc: m)
            r = polarFactor(cross, m: m)
        }
        Dense.gemm(false, false, m: m, n: n, k: m, r, lda: m, y, ldb: n, rotated.withUnsafeMutableBufferPointer { $0.baseAddress! }, ldc: n)
        return rotated
    }

    /// The orthogonal polar factor U V^T of a square matrix U S V^T, by Newton-Schulz
    /// iteration X <- 1.5 X - 0.5 X X^T X after scaling to unit Frobenius norm. Layout-agnostic:
    /// the polar factor of a transpose is the transpose of the polar factor.
    static func polarFactor(_ a: [Float], m: Int) -> [Float] {
        let norm = a.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        var x = a.map { $0 / max(norm, 1e-12) }
        var xxt = [Float](repeating: 0, count: m * m), next = [Float](repeating: 0, count: m * m)
        for _ in 0..<60 {
            Dense.gemm(false, true, m: m, n: m, k: m, x, lda: m, x, ldb: m, xxt.withUnsafeMutableBufferPointer { $0.baseAddress! }, ldc: m)
            for i in 0..<(m * m) { next[i] = 1.5 * x[i] }
            Dense.gemm(false, false, m: m, n: m, k: m, alpha: -0.5, xxt, lda: m, x, ldb: m, beta: 1,
                       next.withUnsafeMutableBufferPointer { $0.baseAddress! }, ldc: m)
            swap(&x, &next)
        }
        return x
    }

    /// Symmetric weighted kNN graph in compressed rows: for each document its neighbours and
    /// cosine weights (an edge kept when either end has the other among its k nearest).
    static func knnGraph(_ docs: [SparseVector], dimension: Int, k: Int, threads: Int) -> [[(Int32, Float)]] {
        var postings = [[(Int32, Float)]](repeating: [], count: dimension)
        for (i, v) in docs.enumerated() { for (t, x) in zip(v.indices, v.values) { postings[Int(t)].append((Int32(i), x)) } }
        let n = docs.count
        var nearest = [[(Int32, Float)]](repeating: [], count: n)
        nearest.withUnsafeMutableBufferPointer { out in
            let workers = max(1, min(threads, n / 256))
            parallelFor(iterations: workers) { w in
                var scores = [Float](repeating: 0, count: n)
                var touched: [Int32] = []
                for i in stride(from: w, to: n, by: workers) {
                    for (t, x) in zip(docs[i].indices, docs[i].values) {
                        for (j, y) in postings[Int(t)] {
                            if scores[Int(j)] == 0 { touched.append(j) }
                            scores[Int(j)] += x * y
                        }
                    }
                    // The k best by (score descending, index ascending), kept sorted: the same
                    // result as sorting every candidate, without the sort.
                    var best: [(Int32, Float)] = []
                    best.reserveCapacity(k + 1)
                    for j in touched where Int(j) != i {
                        let s = scores[Int(j)]
                        if best.count == k, let last = best.last, !(s > last.1 || (s == last.1 && j < last.0)) { continue }
                        var pos = best.count
                        while pos > 0 && (best[pos - 1].1 < s || (best[pos - 1].1 == s && best[pos - 1].0 > j)) { pos -= 1 }
                        best.insert((j, s), at: pos)
                        if best.count > k { best.removeLast() }
                    }
                    out[i] = best
                    for j in touched { scores[Int(j)] = 0 }
                    touched.removeAll(keepingCapacity: true)
                }
            }
        }
        var edges = [[Int32: Float]](repeating: [:], count: n)
        for i in 0..<n {
            for (j, s) in nearest[i] where s > 0 {
                edges[i][j] = max(edges[i][j] ?? 0, s)
                edges[Int(j)][Int32(i)] = max(edges[Int(j)][Int32(i)] ?? 0, s)
            }
        }
        return edges.map { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }

    /// The `count` leading eigenvectors (column-major: column c at `c * n`, by descending
    /// eigenvalue) of (I + D^-1/2 W D^-1/2) / 2, whose spectrum lies in [0, 1], by subspace
    /// iteration with Gram-Schmidt re-orthonormalisation after every step. The columns of a
    /// step are shared among `threads` (each computed alone, the same whatever the split);
    /// `iterated` is told after every tenth of the iterations (the last excepted).
    static func leadingEigenvectors(_ graph: [[(Int32, Float)]], count: Int, iterations: Int, seed: UInt64, threads: Int = 1,
                                    iterated: (Int) -> Void = { _ in }) -> [Float] {
        let n = graph.count, m = count
        let degree = graph.map { max(1e-9, $0.reduce(Float(0)) { $0 + $1.1 }) }
        let invSqrt = degree.map { 1 / $0.squareRoot() }
        // Normalised half-weights of every edge, so one step is q' = q / 2 + A q.
        let weights = graph.enumerated().map { i, row in row.map { (Int($0.0), 0.5 * $0.1 * invSqrt[i] * invSqrt[Int($0.0)]) } }
        var rng = SeededGenerator(seed: seed)
        var q = (0..<(n * m)).map { _ in rng.normal() }
        orthonormalize(&q, n: n, m: m)
        var next = [Float](repeating: 0, count: n * m)
        let workers = max(1, min(threads, m))
        func step(_ from: [Float], _ to: inout [Float]) {
            to.withUnsafeMutableBufferPointer { out in
                parallelFor(iterations: workers) { w in
                    for c in stride(from: w, to: m, by: workers) {
                        let base = c * n
                        for i in 0..<n {
                            var v = 0.5 * from[base + i]
                            for (j, a) in weights[i] { v += a * from[base + j] }
                            out[base + i] = v
                        }
                    }
                }
            }
        }
        let tenth = max(1, iterations / 10)
        for iteration in stride(from: 1, through: iterations, by: 1) {
            step(q, &next)
            swap(&q, &next)
            orthonormalize(&q, n: n, m: m)
            if iteration % tenth == 0 && iteration < iterations { iterated(iteration) }
        }
        // Order the columns by their Rayleigh quotient, largest first.
        step(q, &next)
        let quotient = (0..<m).map { c in (0..<n).reduce(Float(0)) { $0 + q[c * n + $1] * next[c * n + $1] } }
        let order = (0..<m).sorted { quotient[$0] > quotient[$1] }
        return order.flatMap { q[($0 * n) ..< ($0 * n + n)] }
    }

    /// Orthonormalises the m contiguous columns of a column-major n x m matrix by Cholesky QR,
    /// twice (CholeskyQR2: the second pass restores the orthogonality Float32 loses in the
    /// first). G = Q^T Q (one sgemm), G = R^T R, Q = Q R^-1 (one strsm): O(n m^2) in BLAS.
    static func orthonormalize(_ q: inout [Float], n: Int, m: Int) {
        for _ in 0..<2 {
            var gram = [Float](repeating: 0, count: m * m)
            q.withUnsafeBufferPointer { a in
                gram.withUnsafeMutableBufferPointer { g in
                    // Column-major n x m is row-major m x n: G = A A^T in row-major terms.
                    Dense.gemm(false, true, m: m, n: m, k: n, a.baseAddress!, lda: n, a.baseAddress!, ldb: n, g.baseAddress!, ldc: m)
                }
            }
            // Cholesky G = R^T R (R upper, row-major), with a tiny ridge for rank deficiency.
            var r = [Float](repeating: 0, count: m * m)
            for i in 0..<m {
                for j in i..<m {
                    var sum = gram[i * m + j]
                    for k in 0..<i { sum -= r[k * m + i] * r[k * m + j] }
                    if i == j {
                        r[i * m + i] = max(sum, 1e-6 * max(gram[i * m + i], 1e-12)).squareRoot()
                    } else {
                        r[i * m + j] = sum / r[i * m + i]
                    }
                }
            }
            // Row-major A (m x n) <- R^-T A, i.e. column-major Q <- Q R^-1.
            q.withUnsafeMutableBufferPointer { a in
                r.withUnsafeBufferPointer { rr in
                    Dense.solveUpperTransposed(m: m, n: n, rr.baseAddress!, a.baseAddress!)
                }
            }
        }
    }
}
