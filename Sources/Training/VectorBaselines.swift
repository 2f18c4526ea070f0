import BinaryCodes
import COpenBLAS
import Encoder
import Foundation

/// The usual ways of turning float vectors into bits, as encoders of the same form as trained
/// ones (a float linear layer and a bias), so they share the file format, index and evaluation:
/// sign binarisation, a random rotation, and ITQ.
public enum VectorBaselines {
    /// Bit j = sign of dimension j: `bits` must equal the dimension count.
    public static func sign(dimensions: Int, metric: VectorMetric = .cosine) -> VectorEncoderModel {
        var identity = [Float](repeating: 0, count: dimensions * dimensions)
        for j in 0..<dimensions { identity[j * dimensions + j] = 1 }
        let config = VectorModelConfig(dimensions: dimensions, bits: dimensions, weights: .float, method: .sign, metric: metric,
                                       provenance: ["method": "sign of each dimension"])
        return VectorEncoderModel(config: config, projection: PackedMatrix(quantizing: identity, rows: dimensions, cols: dimensions, format: .float),
                                  bias: [Float](repeating: 0, count: dimensions))
    }

    /// Signs of a seeded random rotation: Gaussian rows, orthonormalised when bits <= dimensions.
    public static func rotation(dimensions: Int, bits: Int, seed: UInt64, metric: VectorMetric = .cosine) -> VectorEncoderModel {
        let w = randomRotation(dimensions: dimensions, bits: bits, seed: seed)
        let config = VectorModelConfig(dimensions: dimensions, bits: bits, weights: .float, method: .rotation, metric: metric,
                                       provenance: ["method": "random rotation", "seed": String(seed)])
        return VectorEncoderModel(config: config, projection: PackedMatrix(quantizing: w, rows: bits, cols: dimensions, format: .float),
                                  bias: [Float](repeating: 0, count: bits))
    }

    /// ITQ (Gong and Lazebnik, CVPR 2011) fitted on `set` (at most `maxRows` rows, an evenly
    /// spaced sample beyond): PCA to `bits` directions, then `iterations` rounds of the rotation
    /// that best aligns them with the hypercube's corners.
    /// - Precondition: bits <= dimensions.
    /// - Throws: `TrainingError.blasUnavailable`.
    public static func itq(_ set: VectorSet, bits: Int, iterations: Int = 50, seed: UInt64, metric: VectorMetric = .cosine,
                           maxRows: Int = 100_000) throws -> VectorEncoderModel {
        try Dense.load()
        let fit = itqProjection(set, bits: bits, iterations: iterations, seed: seed, metric: metric, maxRows: maxRows)
        let config = VectorModelConfig(dimensions: set.dimensions, bits: bits, weights: .float, method: .itq, metric: metric,
                                       provenance: ["method": "ITQ", "iterations": String(iterations), "seed": String(seed),
                                                    "training_vectors": String(min(set.count, maxRows))])
        return VectorEncoderModel(config: config, projection: PackedMatrix(quantizing: fit.weights, rows: bits, cols: set.dimensions, format: .float),
                                  bias: fit.bias)
    }

    /// A `bits x dimensions` row-major matrix of Gaussian rows, orthonormal when bits <= dimensions.
    static func randomRotation(dimensions d: Int, bits: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed ^ 0x5eed_0f_2071)
        var w = (0..<(bits * d)).map { _ in rng.normal() }
        if bits <= d {
            // Row j of a row-major bits x d matrix is column j of a column-major d x bits one.
            SpectralTargets.orthonormalize(&w, n: d, m: bits)
        } else {
            for j in 0..<bits {
                let norm = (0..<d).reduce(Float(0)) { $0 + w[j * d + $1] * w[j * d + $1] }.squareRoot()
                for i in 0..<d { w[j * d + i] /= max(norm, 1e-12) }
            }
        }
        return w
    }

    /// Up to `maxRows` rows of `set` (evenly spaced), normalised for cosine, row-major.
    static func sample(_ set: VectorSet, maxRows: Int, metric: VectorMetric) -> (values: [Float], count: Int) {
        let n = min(set.count, maxRows), d = set.dimensions
        var out = [Float](repeating: 0, count: n * d)
        for r in 0..<n {
            let src = r * set.count / n
            var norm: Float = 0
            for i in 0..<d { norm += set.values[src * d + i] * set.values[src * d + i] }
            let scale: Float = metric == .cosine && norm > 0 ? 1 / norm.squareRoot() : 1
            for i in 0..<d { out[r * d + i] = set.values[src * d + i] * scale }
        }
        return (out, n)
    }

    /// ITQ's projection: weights (bits x d, row-major) and bias, so bit j = sign(w_j . x + b_j).
    static func itqProjection(_ set: VectorSet, bits: Int, iterations: Int, seed: UInt64, metric: VectorMetric,
                              maxRows: Int) -> (weights: [Float], bias: [Float]) {
        let d = set.dimensions
        precondition(bits <= d, "ITQ gives at most one bit per dimension")
        var (x, n) = sample(set, maxRows: maxRows, metric: metric)
        var mean = [Float](repeating: 0, count: d)
        for r in 0..<n { for i in 0..<d { mean[i] += x[r * d + i] } }
        for i in 0..<d { mean[i] /= Float(n) }
        for r in 0..<n { for i in 0..<d { x[r * d + i] -= mean[i] } }
        // Principal directions: the top `bits` eigenvectors of X^T X, as rows of pt (bits x d).
        var cov = [Float](repeating: 0, count: d * d)
        Dense.gemm(true, false, m: d, n: d, k: n, x, lda: d, x, ldb: d, &cov, ldc: d)
        let vectors = symmetricEigenvectors(&cov, n: d)
        var pt = [Float](repeating: 0, count: bits * d)
        for j in 0..<bits { for i in 0..<d { pt[j * d + i] = vectors[(d - 1 - j) * d + i] } }
        // Y = X P (n x bits); R = polar(Y^T sign(Y R)), repeated.
        var y = [Float](repeating: 0, count: n * bits)
        Dense.gemm(false, true, m: n, n: bits, k: d, x, lda: d, pt, ldb: d, &y, ldc: bits)
        var rng = SeededGenerator(seed: seed ^ 0x1717)
        var r = (0..<(bits * bits)).map { _ in rng.normal() }
        SpectralTargets.orthonormalize(&r, n: bits, m: bits)
        var z = [Float](repeating: 0, count: n * bits), cross = [Float](repeating: 0, count: bits * bits)
        for _ in 0..<iterations {
            Dense.gemm(false, false, m: n, n: bits, k: bits, y, lda: bits, r, ldb: bits, &z, ldc: bits)
            for i in 0..<(n * bits) { z[i] = z[i] >= 0 ? 1 : -1 }
            Dense.gemm(true, false, m: bits, n: bits, k: n, y, lda: bits, z, ldb: bits, &cross, ldc: bits)
            r = SpectralTargets.polarFactor(cross, m: bits)
        }
        // Bit j = sign((x - mean) . (P R)_j): weights = R^T P^T.
        var w = [Float](repeating: 0, count: bits * d)
        Dense.gemm(true, false, m: bits, n: d, k: bits, r, lda: bits, pt, ldb: d, &w, ldc: d)
        let bias = (0..<bits).map { j in -(0..<d).reduce(Float(0)) { $0 + w[j * d + $1] * mean[$1] } }
        return (w, bias)
    }

    /// Eigenvectors of a symmetric n x n matrix (LAPACK ssyevd): vector k (ascending
    /// eigenvalue) at `k * n ..< (k + 1) * n`. Overwrites `a`.
    static func symmetricEigenvectors(_ a: inout [Float], n: Int) -> [Float] {
        var w = [Float](repeating: 0, count: n)
        var info: Int32 = 0, nn = Int32(n), lwork: Int32 = -1, liwork: Int32 = -1
        var workSize: Float = 0, iworkSize: Int32 = 0
        twentyq_ssyevd("V", "U", &nn, &a, &nn, &w, &workSize, &lwork, &iworkSize, &liwork, &info)
        lwork = Int32(workSize) + 1
        liwork = iworkSize
        var work = [Float](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        twentyq_ssyevd("V", "U", &nn, &a, &nn, &w, &work, &lwork, &iwork, &liwork, &info)
        precondition(info == 0, "ssyevd failed (info \(info))")
        return a
    }
}
