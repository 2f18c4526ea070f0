/// A weight matrix (`rows x cols`, row-major) in its packed low-bit form, with one scale per
/// row. Inference reads only this form; there is no float copy.
///
/// Packing per row (each row starts on an 8-byte boundary):
/// - `float`: cols Float32;
/// - `ternary`: two bit planes of `ceil(cols / 64)` words, plus then minus (2 bits per weight);
/// - `binary`: one plane, bit set = negative (1 bit per weight);
/// - `fp4-*`: one 4-bit code per weight, two per byte, low nibble first.
public struct PackedMatrix: Equatable, Sendable {
    public let format: WeightFormat
    public let rows: Int
    public let cols: Int
    /// Per-row scales.
    public let scales: [Float]
    /// Packed rows, `rowWords` 64-bit words each.
    public let words: [UInt64]

    /// 64-bit words per packed row.
    public static func rowWords(format: WeightFormat, cols: Int) -> Int {
        switch format {
        case .float: return (cols + 1) / 2
        case .ternary: return 2 * ((cols + 63) / 64)
        case .binary: return (cols + 63) / 64
        case .fp4e3m0, .fp4e2m1: return (cols + 15) / 16
        }
    }

    public var rowWords: Int { Self.rowWords(format: format, cols: cols) }

    /// Bytes of packed weights and scales.
    public var byteCount: Int { words.count * 8 + scales.count * 4 }

    public init(format: WeightFormat, rows: Int, cols: Int, scales: [Float], words: [UInt64]) {
        precondition(scales.count == rows && words.count == rows * Self.rowWords(format: format, cols: cols))
        self.format = format
        self.rows = rows
        self.cols = cols
        self.scales = scales
        self.words = words
    }

    /// Quantises and packs latent float weights (`rows x cols`, row-major).
    public init(quantizing latent: [Float], rows: Int, cols: Int, format: WeightFormat) {
        precondition(latent.count == rows * cols)
        let stride = Self.rowWords(format: format, cols: cols)
        var words = [UInt64](repeating: 0, count: rows * stride)
        var scales = [Float](repeating: 1, count: rows)
        latent.withUnsafeBufferPointer { all in
            for r in 0..<rows {
                let row = UnsafeBufferPointer(rebasing: all[r * cols ..< (r + 1) * cols])
                let s = format.scale(of: row)
                scales[r] = s
                let base = r * stride
                for c in 0..<cols {
                    let w = row[c]
                    switch format {
                    case .float:
                        words[base + c / 2] |= UInt64(w.bitPattern) << UInt64(32 * (c % 2))
                    case .ternary:
                        let code = format.code(of: w, scale: s)
                        let plane = code == 1 ? 0 : (code == 2 ? stride / 2 : -1)
                        if plane >= 0 { words[base + plane + c / 64] |= 1 << UInt64(c % 64) }
                    case .binary:
                        if format.code(of: w, scale: s) == 1 { words[base + c / 64] |= 1 << UInt64(c % 64) }
                    case .fp4e3m0, .fp4e2m1:
                        words[base + c / 16] |= UInt64(format.code(of: w, scale: s)) << UInt64(4 * (c % 16))
                    }
                }
            }
        }
        self.init(format: format, rows: rows, cols: cols, scales: scales, words: words)
    }

    /// The code of weight (r, c) (see `WeightFormat.code`); for `float`, 0.
    public func code(row r: Int, col c: Int) -> UInt8 {
        let base = r * rowWords
        switch format {
        case .float: return 0
        case .ternary:
            if words[base + c / 64] >> UInt64(c % 64) & 1 == 1 { return 1 }
            if words[base + rowWords / 2 + c / 64] >> UInt64(c % 64) & 1 == 1 { return 2 }
            return 0
        case .binary: return UInt8(words[base + c / 64] >> UInt64(c % 64) & 1)
        case .fp4e3m0, .fp4e2m1: return UInt8(words[base + c / 16] >> UInt64(4 * (c % 16)) & 0xf)
        }
    }

    /// The weight (r, c) as a Float (for tests, explanations and inspection; not for inference).
    public func value(row r: Int, col c: Int) -> Float {
        if format == .float {
            return Float(bitPattern: UInt32(truncatingIfNeeded: words[r * rowWords + c / 2] >> UInt64(32 * (c % 2))))
        }
        return format.value(of: code(row: r, col: c), scale: scales[r])
    }

    /// All weights as Floats, row-major (tests and inspection only).
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows { for c in 0..<cols { out[r * cols + c] = value(row: r, col: c) } }
        return out
    }
}
