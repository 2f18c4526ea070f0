import BinaryCodes
@testable import Encoder
import Foundation
import Testing

/// The AVX2 builds of the inference loops (`CInferenceKernels`) against the Swift loops they
/// replace: equal to the last bit (bit patterns compared, so a -0 against a +0 counts), on
/// random ternary rows of several widths, inputs holding zeros and negative zeros, and query
/// bits of several widths and seeds.
@Suite struct InferenceKernelTests {
    /// On a CPU with AVX2 the fast builds must be the ones running, or these comparisons would
    /// compare the Swift loops with themselves.
    @Test func theAVX2BuildsRunWhereTheCPUHasAVX2() {
        #expect(PackedMatrix.avx2 == KernelLevel.avx2.isSupported)
    }

    static func gaussian(_ rng: inout SeededGenerator) -> Float {
        let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-12), u2 = Double(rng.next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    @Test(arguments: [8, 40, 64, 256, 300])
    func ternaryRowsEqualTheSwiftLoops(cols: Int) {
        var rng = SeededGenerator(seed: UInt64(cols))
        let rows = 9
        // Mostly zero weights in some rows, so whole words and bytes are skipped.
        let latent = (0 ..< rows * cols).map { i in (i / cols) % 3 == 0 && rng.next() % 4 != 0 ? 0 : Self.gaussian(&rng) }
        let m = PackedMatrix(quantizing: latent, rows: rows, cols: cols, format: .ternary)
        let padded = m.paddedCols
        var x = (0 ..< padded).map { c -> Float in c < cols ? (c % 7 == 0 ? 0 : c % 11 == 0 ? -0.0 : Self.gaussian(&rng)) : 0 }
        for r in 0 ..< rows {
            let fast = x.withUnsafeBufferPointer { m.dot(row: r, $0.baseAddress!) }
            let slow = x.withUnsafeBufferPointer { m.portableDot(row: r, $0.baseAddress!) }
            #expect(fast.bitPattern == slow.bitPattern, "row \(r) of \(cols): \(fast) vs \(slow)")
            let a = Self.gaussian(&rng)
            var h1 = x, h2 = x
            h1.withUnsafeMutableBufferPointer { m.addRow(r, times: a, into: $0.baseAddress!) }
            h2.withUnsafeMutableBufferPointer { m.portableAddRow(r, times: a, into: $0.baseAddress!) }
            #expect(h1.map(\.bitPattern) == h2.map(\.bitPattern), "row \(r) of \(cols)")
            #expect(h1 != x || latent[(r * cols) ..< ((r + 1) * cols)].allSatisfy { $0 == 0 } || a == 0)
            x = h1
        }
    }

    @Test(arguments: [(64, UInt64(7)), (100, 3), (768, 7), (1024, 12_345)])
    func queryBitsEqualTheSwiftLoop(bits: Int, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let config = ProjectionConfig(bits: bits, bucketBits: 12, seed: seed)
        let projection = LexicalProjection(config: config, idf: (0 ..< 4096).map { _ in 1 + Float(rng.next() % 100) / 25 })
        for terms in [0, 1, 5, 300] {
            let hashes = (0 ..< terms).map { _ in rng.next() & 0xFFFF_FFFF_FFFF }
            var fast = [Float](repeating: 0, count: bits), slow = fast
            fast.withUnsafeMutableBufferPointer { projection.addLogits(hashes: hashes, into: $0) }
            slow.withUnsafeMutableBufferPointer { projection.portableAddLogits(projection.weights(hashes: hashes), into: $0) }
            #expect(fast.map(\.bitPattern) == slow.map(\.bitPattern), "\(bits) bits, \(terms) terms")
            #expect(terms == 0 || fast.contains { $0 != 0 })
        }
    }
}
