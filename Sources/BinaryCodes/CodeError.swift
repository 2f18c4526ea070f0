/// Errors from building codes and searching them. Each case names the offending value and
/// what was expected, so the message can be shown to a user as is.
public enum CodeError: Error, Equatable, CustomStringConvertible {
    /// A width outside `BinaryCode.supportedBits`.
    case unsupportedWidth(bits: Int)
    /// A code or query whose width differs from the collection it meets.
    case widthMismatch(expected: Int, actual: Int)
    /// The word array does not hold exactly `ceil(bits / 64)` words.
    case wordCountMismatch(bits: Int, expectedWords: Int, actualWords: Int)
    /// Bits above `bits` in the last word are set; padding must be zero.
    case paddingBitsSet(bits: Int)
    /// k must be at least 1.
    case invalidK(Int)
    /// A search radius must be between 0 and the code width.
    case invalidRadius(Int, bits: Int)
    /// A hexadecimal code string that cannot be parsed for this width.
    case invalidHex(String, bits: Int)
    /// A bit string (`BinaryCode(bitString:)`) with a character other than '0' or '1'.
    case invalidBitString(position: Int, found: String)
    /// Packed bytes (`BinaryCode.packedBytes`) of the wrong count, or with a padding bit set.
    case invalidPackedBytes(String)
    /// The words of each code a query counts (`counted`) must be a non-empty part of its words.
    case invalidCountedWords(Range<Int>, words: Int)

    public var description: String {
        switch self {
        case .unsupportedWidth(let bits):
            return "unsupported code width \(bits) bits: use 1 to \(BinaryCode.maxBits) bits"
        case .widthMismatch(let expected, let actual):
            return "code width mismatch: expected \(expected)-bit codes, got \(actual)-bit"
        case .wordCountMismatch(let bits, let expectedWords, let actualWords):
            return "a \(bits)-bit code needs \(expectedWords) 64-bit words, got \(actualWords)"
        case .paddingBitsSet(let bits):
            return "padding bits above bit \(bits) are set; a \(bits)-bit code must have them zero"
        case .invalidK(let k):
            return "k must be at least 1 (got \(k))"
        case .invalidRadius(let radius, let bits):
            return "radius must be between 0 and \(bits) for \(bits)-bit codes (got \(radius))"
        case .invalidHex(let text, let bits):
            let shown = text.count > 40 ? String(text.prefix(40)) + "..." : text
            return "'\(shown)' is not a \(bits)-bit code in hex: expected \((bits + 3) / 4) hex digits"
        case .invalidBitString(let position, let found):
            return "not a bit string: character \(position) is '\(found)'; only '0' and '1' may appear"
        case .invalidPackedBytes(let detail):
            return "not a packed code: \(detail)"
        case .invalidCountedWords(let range, let words):
            return "the counted words \(range.lowerBound)..<\(range.upperBound) are not a non-empty part of a \(words)-word code: give a range within 0..<\(words)"
        }
    }
}
