import Foundation

/// How a layer's weights are stored and used. Every format quantises each row of a weight
/// matrix with its own scale `s` (one Float per row):
///
/// | format | values | bits/weight | scale `s` of a row |
/// |---|---|---|---|
/// | `float` | any Float | 32 | (unused, 1) |
/// | `ternary` | {-1, 0, +1} x s | 2 | mean \|w\| (BitNet b1.58's absmean); q = clamp(round(w / s), -1, 1) |
/// | `binary` | {-1, +1} x s | 1 | mean \|w\|; q = sign(w), sign(0) = +1 |
/// | `fp4-e3m0` | ±s x 4^e, e in -4...3 (16 values, no zero) | 4 | max \|w\| / 4^3, so the largest weight is representable |
/// | `fp4-e2m1` | ±s x {0, 0.5, 1, 1.5, 2, 3, 4, 6} (OCP MX FP4) | 4 | max \|w\| / 6 |
///
/// fp4 values are chosen by nearest value (not nearest in log space). `fp4-e3m0` is
/// ../shared/DESIGN.md's format: 1 sign bit, 3 exponent bits, no mantissa, powers of 4, no zero,
/// no NaN or infinity; magnitudes run from s/256 to 64 s over 8 consecutive exponents.
public enum WeightFormat: String, Codable, CaseIterable, Sendable {
    case float
    case ternary
    case binary
    case fp4e3m0 = "fp4-e3m0"
    case fp4e2m1 = "fp4-e2m1"

    /// Storage bits per weight in packed form.
    public var bitsPerWeight: Int {
        switch self {
        case .float: return 32
        case .ternary: return 2
        case .binary: return 1
        case .fp4e3m0, .fp4e2m1: return 4
        }
    }

    /// Magnitudes of fp4-e2m1 (index = low 3 bits of the code).
    static let e2m1Magnitudes: [Float] = [0, 0.5, 1, 1.5, 2, 3, 4, 6]
    /// Magnitudes of fp4-e3m0: 4^(e) for e = -4...3 (index = e + 4 = low 3 bits of the code).
    static let e3m0Magnitudes: [Float] = (0..<8).map { Float(pow(4.0, Double($0 - 4))) }

    /// The scale of one row of latent weights (never zero).
    package func scale(of row: UnsafeBufferPointer<Float>) -> Float {
        guard !row.isEmpty else { return 1 }
        let s: Float
        switch self {
        case .float:
            return 1
        case .ternary, .binary:
            s = row.reduce(0) { $0 + abs($1) } / Float(row.count)
        case .fp4e3m0:
            s = row.reduce(0) { max($0, abs($1)) } / 64
        case .fp4e2m1:
            s = row.reduce(0) { max($0, abs($1)) } / 6
        }
        return s > 0 && s.isFinite ? s : 1e-8
    }

    /// The 4-bit (or 2- or 1-bit) code of weight `w` under row scale `s`.
    /// Code layouts: ternary 0 = 0, 1 = +1, 2 = -1; binary 0 = +1, 1 = -1; fp4: bit 3 = sign,
    /// bits 0-2 = magnitude index.
    @inline(__always)
    public func code(of w: Float, scale s: Float) -> UInt8 {
        switch self {
        case .float:
            return 0
        case .ternary:
            // round(w / s) >= 1 exactly when w / s >= 0.5 (rounding half away from zero), and
            // <= -1 when <= -0.5: the comparisons alone, without a call to roundf per weight.
            let x = w / s
            return x >= 0.5 ? 1 : (x <= -0.5 ? 2 : 0)
        case .binary:
            return w >= 0 ? 0 : 1
        case .fp4e3m0, .fp4e2m1:
            let table = self == .fp4e3m0 ? Self.e3m0Magnitudes : Self.e2m1Magnitudes
            let m = abs(w) / s
            var best = 0
            var bestError = Float.infinity
            for (i, v) in table.enumerated() {
                let e = abs(v - m)
                if e < bestError { bestError = e; best = i }
            }
            return UInt8(best) | (w < 0 ? 8 : 0)
        }
    }

    /// The value a code stands for under row scale `s`.
    @inline(__always)
    public func value(of code: UInt8, scale s: Float) -> Float {
        switch self {
        case .float:
            return 0
        case .ternary:
            return code == 1 ? s : (code == 2 ? -s : 0)
        case .binary:
            return code == 0 ? s : -s
        case .fp4e3m0:
            let m = Self.e3m0Magnitudes[Int(code & 7)] * s
            return code & 8 != 0 ? -m : m
        case .fp4e2m1:
            let m = Self.e2m1Magnitudes[Int(code & 7)] * s
            return code & 8 != 0 ? -m : m
        }
    }

    /// Quantises `rows x cols` latent weights (row-major) and writes the values they stand for
    /// into `out` and the row scales into `scales`: the "fake-quantised" weights that every
    /// training forward pass uses. For `float`, copies.
    package func fakeQuantize(_ latent: UnsafeBufferPointer<Float>, rows: Int, cols: Int,
                             into out: UnsafeMutableBufferPointer<Float>, scales: UnsafeMutableBufferPointer<Float>) {
        precondition(latent.count == rows * cols && out.count == rows * cols && scales.count == rows)
        if self == .float {
            _ = out.initialize(from: latent)
            for r in 0..<rows { scales[r] = 1 }
            return
        }
        for r in 0..<rows {
            let row = UnsafeBufferPointer(rebasing: latent[r * cols ..< (r + 1) * cols])
            let s = scale(of: row)
            scales[r] = s
            let dst = out.baseAddress! + r * cols
            let sv = SIMD8<Float>(repeating: s), half = SIMD8<Float>(repeating: 0.5), zero = SIMD8<Float>()
            switch self {
            case .ternary:
                quantizeEight(row, into: dst, scale: s) { w in
                    let x = w / sv
                    var v = zero
                    v.replace(with: sv, where: x .>= half)
                    v.replace(with: -sv, where: x .<= -half)
                    return v
                }
            case .binary:
                // sign(w) x s, sign(0) = +1 (-0 >= 0 too, as in `code(of:)`).
                quantizeEight(row, into: dst, scale: s) { w in
                    var v = -sv
                    v.replace(with: sv, where: w .>= zero)
                    return v
                }
            default:
                for c in 0..<cols { dst[c] = value(of: code(of: row[c], scale: s), scale: s) }
            }
        }
    }

    /// Writes the fake-quantised values of `row` into `out`: `lanes` eight at a time, the rest
    /// through `value(of: code(of:))`. Ternary and binary rows go this way, without a branch per
    /// weight: every training step re-quantises every weight, and the per-weight branches (half
    /// of them mispredicted on random weights) and `roundf` calls were a fifth of training time.
    /// `lanes` must give `value(of: code(of:))` of each lane; division and comparisons are exact
    /// per lane, so they do (tested to the last bit).
    @inline(__always)
    private func quantizeEight(_ row: UnsafeBufferPointer<Float>, into out: UnsafeMutablePointer<Float>, scale s: Float,
                               _ lanes: (SIMD8<Float>) -> SIMD8<Float>) {
        guard let base = row.baseAddress else { return }  // an empty row
        let src = UnsafeRawPointer(base), dst = UnsafeMutableRawPointer(out)
        var c = 0
        while c + 8 <= row.count {
            dst.storeBytes(of: lanes(src.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)), toByteOffset: c * 4, as: SIMD8<Float>.self)
            c += 8
        }
        for c in c ..< row.count { out[c] = value(of: code(of: row[c], scale: s), scale: s) }
    }
}
