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

    /// `h[c] += a * W[r, c]` for every column c.
    public func addRow(_ r: Int, times a: Float, into h: UnsafeMutablePointer<Float>) {
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

    /// `sum over c of W[r, c] * x[c]`.
    public func dot(row r: Int, _ x: UnsafePointer<Float>) -> Float {
        let s = scales[r]
        return words.withUnsafeBufferPointer { all -> Float in
            let row = all.baseAddress! + r * rowWords
            switch format {
            case .float:
                let w = UnsafeRawPointer(row).assumingMemoryBound(to: Float.self)
                var acc: Float = 0
                for c in 0..<cols { acc += w[c] * x[c] }
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
