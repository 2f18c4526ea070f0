import Foundation
import BinaryCodes
import Encoder
import TestSupport
import Testing

@Suite struct WeightFormatTests {
    static let lowBit: [WeightFormat] = [.ternary, .binary, .fp4e3m0, .fp4e2m1]

    func randomRow(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in Float(Int(rng.next() % 2001) - 1000) / 700 }
    }

    @Test func eachFormatHasItsDocumentedValueSet() {
        let s: Float = 0.5
        func values(_ f: WeightFormat) -> Set<Float> { Set((0..<16).map { f.value(of: UInt8($0), scale: s) }) }
        #expect(values(.ternary) == [-0.5, 0, 0.5])
        #expect(values(.binary) == [-0.5, 0.5])
        let e3m0 = values(.fp4e3m0)
        #expect(e3m0.count == 16 && !e3m0.contains(0))  // 8 positive, 8 negative, no zero
        #expect(e3m0.filter { $0 > 0 }.sorted() == (-4...3).map { s * Float(pow(4.0, Double($0))) })
        #expect(values(.fp4e2m1) == Set([0, 0.5, 1, 1.5, 2, 3, 4, 6].flatMap { [s * $0, -s * $0] }))
    }

    @Test(arguments: lowBit)
    func quantisationPicksTheNearestRepresentableValue(format: WeightFormat) {
        let row = randomRow(500, seed: 3)
        let s = row.withUnsafeBufferPointer { format.scale(of: $0) }
        let representable = Set((0..<16).map { format.value(of: UInt8($0), scale: s) })
        for w in row {
            let q = format.value(of: format.code(of: w, scale: s), scale: s)
            #expect(representable.contains(q))
            if format == .binary {
                #expect((q > 0) == (w >= 0))
            } else if format == .ternary {
                #expect(q == (abs(w) < s / 2 ? 0 : (w > 0 ? s : -s)) || abs(abs(w) - s / 2) < 1e-6)
            } else {
                let best = representable.map { abs($0 - w) }.min()!
                #expect(abs(q - w) <= best + 1e-6)
            }
        }
    }

    /// The ternary code is BitNet b1.58's q = clamp(round(w / s), -1, 1) (rounding half away
    /// from zero), written as comparisons: pinned against the formula at the edges (the halves,
    /// the floats next to them, infinities, NaN) and on many seeded weights, for the code and
    /// for the fake-quantised row.
    @Test func ternaryIsClampedRoundingToTheLastFloat() {
        func reference(_ w: Float, _ s: Float) -> UInt8 {  // the rounding, as written until 2026-12-04 (NaN: 0)
            let q = (w / s).rounded()
            return q >= 1 ? 1 : (q <= -1 ? 2 : 0)
        }
        let s: Float = 0.75
        var weights: [Float] = [0, -0.0, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.leastNonzeroMagnitude]
        for half in [Float(0.5), 1.5, -0.5, -1.5] {
            let x = half * s
            weights += [x, x.nextUp, x.nextDown, x.nextUp.nextUp, x.nextDown.nextDown]
        }
        weights += randomRow(5_000, seed: 11)
        for w in weights {
            #expect(WeightFormat.ternary.code(of: w, scale: s) == reference(w, s), "w = \(w)")
        }
        let row = weights.filter(\.isFinite)
        var out = [Float](repeating: 9, count: row.count), scale: [Float] = [0]
        row.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { o in scale.withUnsafeMutableBufferPointer { WeightFormat.ternary.fakeQuantize(src, rows: 1, cols: row.count, into: o, scales: $0) } }
        }
        let t = scale[0]
        #expect(out.map(\.bitPattern) == row.map { WeightFormat.ternary.value(of: reference($0, t), scale: t).bitPattern })
        // Binary's row, eight at a time too, against the per-weight code and value (-0 is +s).
        row.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { o in scale.withUnsafeMutableBufferPointer { WeightFormat.binary.fakeQuantize(src, rows: 1, cols: row.count, into: o, scales: $0) } }
        }
        let b = scale[0]
        #expect(out.map(\.bitPattern) == row.map { WeightFormat.binary.value(of: WeightFormat.binary.code(of: $0, scale: b), scale: b).bitPattern })
        #expect(WeightFormat.binary.code(of: -0.0, scale: b) == 0 && row.contains { $0 == 0 && $0.sign == .minus })
    }

    @Test func scalesFollowTheDocumentedRules() {
        let row: [Float] = [1, -2, 3, -6]
        row.withUnsafeBufferPointer { r in
            #expect(WeightFormat.ternary.scale(of: r) == 3)    // mean |w|
            #expect(WeightFormat.binary.scale(of: r) == 3)
            #expect(WeightFormat.fp4e2m1.scale(of: r) == 1)    // max |w| / 6
            #expect(WeightFormat.fp4e3m0.scale(of: r) == 6.0 / 64)  // max |w| / 4^3
        }
        let zeros = [Float](repeating: 0, count: 4)
        zeros.withUnsafeBufferPointer { #expect(WeightFormat.ternary.scale(of: $0) > 0) }
    }
}

@Suite struct PackedMatrixTests {
    static let shapes = [(3, 1), (2, 63), (4, 64), (3, 65), (5, 130), (2, 256)]

    func latent(rows: Int, cols: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<(rows * cols)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 400 }
    }

    @Test(arguments: WeightFormat.allCases)
    func packingKeepsExactlyTheFakeQuantisedValues(format: WeightFormat) {
        for (rows, cols) in Self.shapes {
            let w = latent(rows: rows, cols: cols, seed: UInt64(rows * 1000 + cols))
            let packed = PackedMatrix(quantizing: w, rows: rows, cols: cols, format: format)
            var fake = [Float](repeating: 0, count: rows * cols), scales = [Float](repeating: 0, count: rows)
            w.withUnsafeBufferPointer { src in
                fake.withUnsafeMutableBufferPointer { out in
                    scales.withUnsafeMutableBufferPointer { format.fakeQuantize(src, rows: rows, cols: cols, into: out, scales: $0) }
                }
            }
            #expect(packed.dequantized() == fake)
            #expect(packed.words.count * 64 == rows * PackedMatrix.rowWords(format: format, cols: cols) * 64)
        }
    }

    @Test(arguments: WeightFormat.allCases)
    func rowKernelsMatchPlainArithmeticOnTheDequantisedWeights(format: WeightFormat) {
        for (rows, cols) in Self.shapes {
            let packed = PackedMatrix(quantizing: latent(rows: rows, cols: cols, seed: 9), rows: rows, cols: cols, format: format)
            let dense = packed.dequantized()
            var rng = SeededGenerator(seed: 5)
            var x = [Float](repeating: 0, count: packed.paddedCols)
            for c in 0..<cols { x[c] = Float(Int(rng.next() % 200) - 100) / 50 }
            for r in 0..<rows {
                let expectedDot = (0..<cols).reduce(Float(0)) { $0 + dense[r * cols + $1] * x[$1] }
                let dot = x.withUnsafeBufferPointer { packed.dot(row: r, $0.baseAddress!) }
                #expect(abs(dot - expectedDot) <= 1e-3 * max(1, abs(expectedDot)), "row \(r) of \(rows)x\(cols)")
                var h = [Float](repeating: 1, count: packed.paddedCols)
                h.withUnsafeMutableBufferPointer { packed.addRow(r, times: 0.75, into: $0.baseAddress!) }
                for c in 0..<cols { #expect(abs(h[c] - (1 + 0.75 * dense[r * cols + c])) < 1e-5) }
            }
        }
    }

    /// The subset-sum kernel against plain arithmetic on the dequantised weights: odd widths,
    /// all-zero rows (every plane byte 0) and an all-zero input.
    @Test func ternarySubsetSumProductsMatchPlainArithmetic() {
        for (rows, cols) in Self.shapes + [(3, 0), (4, 384)] {
            var w = latent(rows: rows, cols: cols, seed: UInt64(7 * cols + rows))
            for c in 0..<cols { w[c] = 0 }  // row 0: all zeros
            let packed = PackedMatrix(quantizing: w, rows: rows, cols: cols, format: .ternary)
            let dense = packed.dequantized()
            var rng = SeededGenerator(seed: 11)
            for zeroInput in [false, true] {
                var x = [Float](repeating: 0, count: packed.paddedCols)
                if !zeroInput { for c in 0..<cols { x[c] = Float(Int(rng.next() % 2001) - 1000) / 300 } }
                var table = [Float](repeating: .nan, count: packed.subsetSumCount)
                x.withUnsafeBufferPointer { xs in table.withUnsafeMutableBufferPointer { packed.subsetSums(xs.baseAddress!, into: $0.baseAddress!) } }
                // Every entry is its subset's sum.
                for g in 0 ..< packed.paddedCols / 8 {
                    for b in [0, 1, 0x80, 0x5a, 0xff] {
                        let expected = (0..<8).filter { b >> $0 & 1 == 1 }.reduce(Float(0)) { $0 + x[8 * g + $1] }
                        #expect(abs(table[g * 256 + b] - expected) < 1e-4, "group \(g) subset \(b)")
                    }
                }
                for r in 0..<rows {
                    let expected = (0..<cols).reduce(Float(0)) { $0 + dense[r * cols + $1] * x[$1] }
                    let viaTable = table.withUnsafeBufferPointer { packed.ternaryDot(row: r, subsetSums: $0.baseAddress!) }
                    let viaMasks = x.withUnsafeBufferPointer { packed.dot(row: r, $0.baseAddress!) }
                    #expect(abs(viaTable - expected) <= 1e-3 * max(1, abs(expected)), "row \(r) of \(rows)x\(cols)")
                    #expect(abs(viaTable - viaMasks) <= 1e-3 * max(1, abs(expected)))
                    if r == 0 || zeroInput { #expect(viaTable == 0) }
                }
            }
        }
    }

    @Test func packedSizesAreTheFormatsBitsPerWeight() {
        let w = latent(rows: 10, cols: 256, seed: 1)
        for format in WeightFormat.allCases {
            let packed = PackedMatrix(quantizing: w, rows: 10, cols: 256, format: format)
            #expect(packed.words.count * 64 == 10 * 256 * format.bitsPerWeight)
        }
    }
}
