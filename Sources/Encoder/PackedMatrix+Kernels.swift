import CInferenceKernels

/// Inference kernels over packed rows. Buffers passed in must hold `paddedCols` Floats, the
/// lanes past `cols` being zero on input for `dot`; `addRow` may write any value there.
///
/// - ternary: `addRow` adds `a * s` where the plus bit is set and subtracts it where the minus bit
///   is set (lane masks from a byte table, AND, add, subtract: no multiplication per weight);
///   `dot` sums the masked inputs of the plus plane minus those of the minus plane, then
///   multiplies once by the row scale.
/// - binary: the sign plane flips the sign bit of `a * s` (XOR).
/// - fp4: a 16-entry table of `code value x s` per row, looked up per weight.
extension PackedMatrix {
    /// `cols` rounded up to a multiple of 64.
    public var paddedCols: Int { (cols + 63) / 64 * 64 }

    /// Lane masks: entry b has lane i all-ones where bit i of b is set.
    static let byteMasks: [SIMD8<UInt32>] = (0..<256).map { b in
        var m = SIMD8<UInt32>()
        for i in 0..<8 where (b >> i) & 1 == 1 { m[i] = ~0 }
        return m
    }

    /// Whether the AVX2 builds of the ternary loops run (`CInferenceKernels`), checked once.
    static let avx2 = tqi_avx2_supported() != 0

    /// `h[c] += a * W[r, c]` for every column c: a ternary row by the AVX2 build where the CPU
    /// has it (the same additions as `portableAddRow`, equal to the last bit).
    public func addRow(_ r: Int, times a: Float, into h: UnsafeMutablePointer<Float>) {
        guard format == .ternary, Self.avx2 else { return portableAddRow(r, times: a, into: h) }
        let v = a * scales[r]
        words.withUnsafeBufferPointer { all in
            let row = all.baseAddress! + r * rowWords
            tqi_ternary_add_row_avx2(row, row + rowWords / 2, rowWords / 2, v, h)
        }
    }

    /// `addRow` in Swift, every format (the reference of the AVX2 build, and the build that
    /// runs without AVX2).
    func portableAddRow(_ r: Int, times a: Float, into h: UnsafeMutablePointer<Float>) {
        let s = scales[r]
        words.withUnsafeBufferPointer { all in
            let row = all.baseAddress! + r * rowWords
            switch format {
            case .float:
                let w = UnsafeRawPointer(row).assumingMemoryBound(to: Float.self)
                for c in 0..<cols { h[c] += a * w[c] }
            case .ternary:
                let planeWords = rowWords / 2
                let v = unsafeBitCast(SIMD8<Float>(repeating: a * s), to: SIMD8<UInt32>.self)
                Self.byteMasks.withUnsafeBufferPointer { masks in
                    let raw = UnsafeMutableRawPointer(h)
                    for w in 0..<planeWords {
                        let plus = row[w], minus = row[planeWords + w]
                        if plus | minus == 0 { continue }
                        for byte in 0..<8 {
                            let pb = Int(plus >> UInt64(8 * byte) & 0xff), mb = Int(minus >> UInt64(8 * byte) & 0xff)
                            if pb | mb == 0 { continue }
                            let offset = (w * 64 + byte * 8) * 4
                            var x = raw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                            x += unsafeBitCast(v & masks[pb], to: SIMD8<Float>.self)
                            x -= unsafeBitCast(v & masks[mb], to: SIMD8<Float>.self)
                            raw.storeBytes(of: x, toByteOffset: offset, as: SIMD8<Float>.self)
                        }
                    }
                }
            case .binary:
                let v = unsafeBitCast(SIMD8<Float>(repeating: a * s), to: SIMD8<UInt32>.self)
                let sign = SIMD8<UInt32>(repeating: 0x8000_0000)
                Self.byteMasks.withUnsafeBufferPointer { masks in
                    let raw = UnsafeMutableRawPointer(h)
                    for w in 0..<rowWords {
                        let neg = row[w]
                        for byte in 0..<8 {
                            let nb = Int(neg >> UInt64(8 * byte) & 0xff)
                            let offset = (w * 64 + byte * 8) * 4
                            var x = raw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                            x += unsafeBitCast(v ^ (sign & masks[nb]), to: SIMD8<Float>.self)
                            raw.storeBytes(of: x, toByteOffset: offset, as: SIMD8<Float>.self)
                        }
                    }
                }
            case .fp4e3m0, .fp4e2m1:
                var table = SIMD16<Float>()
                for code in 0..<16 { table[code] = a * format.value(of: UInt8(code), scale: s) }
                for c in 0..<cols {
                    h[c] += table[Int(row[c / 16] >> UInt64(4 * (c % 16)) & 0xf)]
                }
            }
        }
    }

    /// `sum over c of W[r, c] * x[c]`: a ternary row by the AVX2 build where the CPU has it
    /// (its lanes are `portableDot`'s, summed the same way).
    public func dot(row r: Int, _ x: UnsafePointer<Float>) -> Float {
        guard format == .ternary, Self.avx2 else { return portableDot(row: r, x) }
        let lanes = words.withUnsafeBufferPointer { all -> SIMD8<Float> in
            let row = all.baseAddress! + r * rowWords
            var lanes = SIMD8<Float>()
            withUnsafeMutableBytes(of: &lanes) { out in
                tqi_ternary_dot_lanes_avx2(row, row + rowWords / 2, rowWords / 2, x, out.baseAddress!.assumingMemoryBound(to: Float.self))
            }
            return lanes
        }
        return lanes.sum() * scales[r]
    }

    /// `dot` in Swift, every format (the reference of the AVX2 build, and the build that runs
    /// without AVX2).
    func portableDot(row r: Int, _ x: UnsafePointer<Float>) -> Float {
        let s = scales[r]
        return words.withUnsafeBufferPointer { all -> Float in
            let row = all.baseAddress! + r * rowWords
            switch format {
            case .float:
                // Eight lanes at a time (rows start on 8-byte boundaries: unaligned loads), then the tail.
                let w = UnsafeRawPointer(row), xs = UnsafeRawPointer(x)
                var lanes = SIMD8<Float>()
                let whole = cols / 8 * 8
                for c in stride(from: 0, to: whole, by: 8) {
                    lanes += w.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                        * xs.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                }
                var acc = lanes.sum()
                let wf = w.assumingMemoryBound(to: Float.self)
                for c in whole..<cols { acc += wf[c] * x[c] }
                return acc
            case .ternary:
                let planeWords = rowWords / 2
                let raw = UnsafeRawPointer(x)
                var plusSum = SIMD8<Float>(), minusSum = SIMD8<Float>()
                Self.byteMasks.withUnsafeBufferPointer { masks in
                    for w in 0..<planeWords {
                        let plus = row[w], minus = row[planeWords + w]
                        for byte in 0..<8 {
                            let xv = unsafeBitCast(raw.loadUnaligned(fromByteOffset: (w * 64 + byte * 8) * 4, as: SIMD8<Float>.self),
                                                   to: SIMD8<UInt32>.self)
                            plusSum += unsafeBitCast(xv & masks[Int(plus >> UInt64(8 * byte) & 0xff)], to: SIMD8<Float>.self)
                            minusSum += unsafeBitCast(xv & masks[Int(minus >> UInt64(8 * byte) & 0xff)], to: SIMD8<Float>.self)
                        }
                    }
                }
                return (plusSum - minusSum).sum() * s
            case .binary:
                let raw = UnsafeRawPointer(x)
                var total = SIMD8<Float>(), negative = SIMD8<Float>()
                Self.byteMasks.withUnsafeBufferPointer { masks in
                    for w in 0..<rowWords {
                        let neg = row[w]
                        for byte in 0..<8 {
                            let xf = raw.loadUnaligned(fromByteOffset: (w * 64 + byte * 8) * 4, as: SIMD8<Float>.self)
                            total += xf
                            negative += unsafeBitCast(unsafeBitCast(xf, to: SIMD8<UInt32>.self) & masks[Int(neg >> UInt64(8 * byte) & 0xff)],
                                                      to: SIMD8<Float>.self)
                        }
                    }
                }
                return (total - negative - negative).sum() * s
            case .fp4e3m0, .fp4e2m1:
                var table = SIMD16<Float>()
                for code in 0..<16 { table[code] = format.value(of: UInt8(code), scale: s) }
                var acc: Float = 0
                for c in 0..<cols { acc += table[Int(row[c / 16] >> UInt64(4 * (c % 16)) & 0xf)] * x[c] }
                return acc
            }
        }
    }
}

/// Ternary products through subset sums (the lookup-table method of T-MAC and bitnet.cpp):
/// for one input vector, a table holds, for every group of 8 inputs, the sums of all 256
/// subsets of those 8 values; a row's product is then, per byte of its plus and minus planes,
/// one table read each: 2 reads per 8 weights instead of 8 masked lanes per plane. The table
/// costs 256 additions per group, once per input vector, shared by every row. Worth it when
/// many rows read the same input (a layer's product with one vector); `dot` stays the
/// reference.
extension PackedMatrix {
    /// Floats of the subset-sum table of an input of `paddedCols` values.
    public var subsetSumCount: Int { paddedCols * 32 }

    /// Fills `table` (`subsetSumCount` Floats) with the subset sums of `x` (`paddedCols`
    /// Floats): `table[g * 256 + b]` = the sum of `x[8 g + i]` over the bits i set in b.
    public func subsetSums(_ x: UnsafePointer<Float>, into table: UnsafeMutablePointer<Float>) {
        for g in 0 ..< paddedCols / 8 {
            let t = table + g * 256, v = x + g * 8
            t[0] = 0
            // Entry b = entry (b without its highest bit) + the input of that bit.
            for bit in 0..<8 {
                let high = 1 << bit, value = v[bit]
                for b in 0..<high { t[high + b] = t[b] + value }
            }
        }
    }

    /// `sum over c of W[r, c] * x[c]` for a ternary matrix, from the subset sums of x.
    /// - Precondition: `format == .ternary`.
    public func ternaryDot(row r: Int, subsetSums table: UnsafePointer<Float>) -> Float {
        precondition(format == .ternary)
        let planeWords = rowWords / 2
        return words.withUnsafeBufferPointer { all -> Float in
            let row = all.baseAddress! + r * rowWords
            var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
            for w in 0..<planeWords {
                let plus = row[w], minus = row[planeWords + w]
                guard plus | minus != 0 else { continue }
                let t = table + w * 2048
                a0 += t[Int(plus & 0xff)] - t[Int(minus & 0xff)]
                a1 += t[256 + Int(plus >> 8 & 0xff)] - t[256 + Int(minus >> 8 & 0xff)]
                a2 += t[512 + Int(plus >> 16 & 0xff)] - t[512 + Int(minus >> 16 & 0xff)]
                a3 += t[768 + Int(plus >> 24 & 0xff)] - t[768 + Int(minus >> 24 & 0xff)]
                a0 += t[1024 + Int(plus >> 32 & 0xff)] - t[1024 + Int(minus >> 32 & 0xff)]
                a1 += t[1280 + Int(plus >> 40 & 0xff)] - t[1280 + Int(minus >> 40 & 0xff)]
                a2 += t[1536 + Int(plus >> 48 & 0xff)] - t[1536 + Int(minus >> 48 & 0xff)]
                a3 += t[1792 + Int(plus >> 56)] - t[1792 + Int(minus >> 56)]
            }
            return ((a0 + a1) + (a2 + a3)) * scales[r]
        }
    }
}
