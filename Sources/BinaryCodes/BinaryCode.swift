/// A binary code: an answer sheet of `bits` yes/no questions, packed into 64-bit words.
///
/// Layout: bit `i` is bit `i % 64` of word `i / 64` (little-endian within and across words).
/// Widths that are not a multiple of 64 are padded up to the next whole word with zero bits;
/// the padding is checked on construction, so it never contributes to a distance.
public struct BinaryCode: Hashable, Sendable {
    /// Narrowest and widest supported codes.
    public static let minBits = 1
    public static let maxBits = 4096
    public static let supportedBits = minBits...maxBits

    /// Number of meaningful bits.
    public let bits: Int
    /// `wordCount(bits)` words; padding bits above `bits` are zero.
    public let words: [UInt64]

    /// Words needed for a code of `bits` bits.
    @inlinable public static func wordCount(bits: Int) -> Int { (bits + 63) / 64 }

    /// Mask of the meaningful bits of the last word.
    @inlinable static func lastWordMask(bits: Int) -> UInt64 {
        let rem = bits % 64
        return rem == 0 ? ~0 : (UInt64(1) << UInt64(rem)) - 1
    }

    /// Creates a code from its words.
    /// - Throws: `CodeError` when the width is unsupported, the word count is wrong, or
    ///   padding bits are set.
    public init(bits: Int, words: [UInt64]) throws {
        try Self.validate(bits: bits, words: words[...])
        self.bits = bits
        self.words = words
    }

    /// The all-zero code.
    public init(zeroBits bits: Int) throws {
        guard Self.supportedBits.contains(bits) else { throw CodeError.unsupportedWidth(bits: bits) }
        self.bits = bits
        self.words = Array(repeating: 0, count: Self.wordCount(bits: bits))
    }

    /// A uniformly random code drawn from `generator`.
    public static func random<G: RandomNumberGenerator>(bits: Int, using generator: inout G) throws -> BinaryCode {
        guard supportedBits.contains(bits) else { throw CodeError.unsupportedWidth(bits: bits) }
        var words = (0..<wordCount(bits: bits)).map { _ in generator.next() as UInt64 }
        words[words.count - 1] &= lastWordMask(bits: bits)
        return try BinaryCode(bits: bits, words: words)
    }

    static func validate(bits: Int, words: ArraySlice<UInt64>) throws {
        guard supportedBits.contains(bits) else { throw CodeError.unsupportedWidth(bits: bits) }
        let expected = wordCount(bits: bits)
        guard words.count == expected else {
            throw CodeError.wordCountMismatch(bits: bits, expectedWords: expected, actualWords: words.count)
        }
        guard words.last! & ~lastWordMask(bits: bits) == 0 else { throw CodeError.paddingBitsSet(bits: bits) }
    }

    /// Bit `index` (0-based) as a Bool.
    public subscript(bit index: Int) -> Bool {
        precondition(index >= 0 && index < bits, "bit index \(index) out of range 0..<\(bits)")
        return words[index / 64] >> UInt64(index % 64) & 1 == 1
    }

    /// Returns a copy with bit `index` flipped.
    public func flipping(bit index: Int) -> BinaryCode {
        precondition(index >= 0 && index < bits, "bit index \(index) out of range 0..<\(bits)")
        var w = words
        w[index / 64] ^= UInt64(1) << UInt64(index % 64)
        return try! BinaryCode(bits: bits, words: w)
    }
}

extension BinaryCode {
    /// Hexadecimal text, most significant digit first: bit 0 is the lowest bit of the last digit.
    /// Exactly `(bits + 3) / 4` digits.
    public var hex: String {
        let digits = (bits + 3) / 4
        var out = [UInt8]()
        out.reserveCapacity(digits)
        let alphabet = Array("0123456789abcdef".utf8)
        for d in stride(from: digits - 1, through: 0, by: -1) {
            let nibble = Int(words[d / 16] >> UInt64((d % 16) * 4) & 0xf)
            out.append(alphabet[nibble])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `hex` (as produced by `hex`) into a code of `bits` bits.
    public init(hex: String, bits: Int) throws {
        guard Self.supportedBits.contains(bits) else { throw CodeError.unsupportedWidth(bits: bits) }
        let digits = Array(hex.utf8)
        guard digits.count == (bits + 3) / 4 else { throw CodeError.invalidHex(hex, bits: bits) }
        var words = [UInt64](repeating: 0, count: Self.wordCount(bits: bits))
        for (position, ch) in digits.enumerated() {
            let d = digits.count - 1 - position
            let value: UInt64
            switch ch {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt64(ch - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = UInt64(ch - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = UInt64(ch - UInt8(ascii: "A") + 10)
            default: throw CodeError.invalidHex(hex, bits: bits)
            }
            words[d / 16] |= value << UInt64((d % 16) * 4)
        }
        do { try self.init(bits: bits, words: words) } catch CodeError.paddingBitsSet {
            throw CodeError.invalidHex(hex, bits: bits)
        }
    }
}
