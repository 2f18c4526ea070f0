import BinaryCodes
import Foundation
import COpenBLAS

/// The trainer's few dense products, through OpenBLAS (row-major), which is loaded on first use
/// (`load()`) rather than linked, so commands that do not train never start it. OpenBLAS is pinned
/// to one thread: its results differ slightly between thread counts, and a seed must reproduce a
/// model byte for byte.
public enum Dense {
    /// Loads OpenBLAS (once). Every public entry point that reaches a product calls this first.
    /// - Throws: `TrainingError.blasUnavailable` naming the library and the package to install.
    public static func load() throws {
        var message = [CChar](repeating: 0, count: 512)
        guard twentyq_blas_load(&message, message.count) == 0 else {
            let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            throw TrainingError.blasUnavailable(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// C (m x n) = alpha * op(A) * op(B) + beta * C, row-major.
    static func gemm(_ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                     _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                     beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        twentyq_sgemm(transA ? TWENTYQ_CBLAS_TRANS : TWENTYQ_CBLAS_NO_TRANS, transB ? TWENTYQ_CBLAS_TRANS : TWENTYQ_CBLAS_NO_TRANS,
                      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Dense {
    /// B (m x n, row-major) <- R^-T B for an upper-triangular R (m x m, row-major): `cblas_strsm`.
    static func solveUpperTransposed(m: Int, n: Int, _ r: UnsafePointer<Float>, _ b: UnsafeMutablePointer<Float>) {
        twentyq_strsm(TWENTYQ_CBLAS_LEFT, TWENTYQ_CBLAS_UPPER, TWENTYQ_CBLAS_TRANS, TWENTYQ_CBLAS_NON_UNIT,
                      Int32(m), Int32(n), 1, r, Int32(m), b, Int32(n))
    }
}

/// A Float buffer owned by the trainer (zero-initialised).
final class Buffer {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>

    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }

    convenience init(_ values: [Float]) {
        self.init(values.count)
        for (i, v) in values.enumerated() { pointer[i] = v }
    }

    deinit { pointer.deallocate() }

    func zero() { pointer.update(repeating: 0, count: count) }
    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}

extension SeededGenerator {
    /// A standard normal draw (Box-Muller).
    mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), 1e-300)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
