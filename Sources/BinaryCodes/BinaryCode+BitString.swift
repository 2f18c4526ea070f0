extension BinaryCode {
    /// The code as a string of '0' and '1', character i being bit i: the text form of SQL's
    /// `bit(n)` (PostgreSQL, pgvector) and of Elasticsearch's and Milvus's bit vectors read
    /// left to right.
    public var bitString: String {
        String(decoding: (0..<bits).map { self[bit: $0] ? UInt8(ascii: "1") : UInt8(ascii: "0") }, as: UTF8.self)
    }

    /// A code from its bit string (`bitString`).
    /// - Throws: `CodeError.unsupportedWidth` for an empty or too long string,
    ///   `CodeError.invalidBitString` naming a character other than '0' or '1'.
    public init(bitString text: String) throws {
        let bytes = Array(text.utf8)
        guard BinaryCode.supportedBits.contains(bytes.count) else { throw CodeError.unsupportedWidth(bits: bytes.count) }
        var words = [UInt64](repeating: 0, count: BinaryCode.wordCount(bits: bytes.count))
        for (i, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "1"): words[i / 64] |= 1 << UInt64(i % 64)
            case UInt8(ascii: "0"): break
            default: throw CodeError.invalidBitString(position: i, found: String(decoding: [byte], as: UTF8.self))
            }
        }
        try self.init(bits: bytes.count, words: words)
    }

    /// The code as bytes, eight bits each, the first bit in the most significant place (NumPy's
    /// `packbits` order): bit i is bit `7 - i % 8` of byte `i / 8`, and the last byte is padded
    /// with zero bits, which add nothing to a Hamming distance. The byte form of Elasticsearch's
    /// `element_type: bit` vectors and Milvus's `BINARY_VECTOR`, both of which count bits in
    /// whole bytes.
    public var packedBytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: (bits + 7) / 8)
        for i in 0..<bits where self[bit: i] { out[i / 8] |= 0x80 >> UInt8(i % 8) }
        return out
    }

    /// A code of `bits` bits from its packed bytes (`packedBytes`).
    /// - Throws: `CodeError.unsupportedWidth`, and `CodeError.invalidPackedBytes` when the byte
    ///   count is not `ceil(bits / 8)` or a padding bit is set.
    public init(packedBytes bytes: [UInt8], bits: Int) throws {
        guard BinaryCode.supportedBits.contains(bits) else { throw CodeError.unsupportedWidth(bits: bits) }
        guard bytes.count == (bits + 7) / 8 else {
            throw CodeError.invalidPackedBytes("\(bytes.count) bytes for \(bits) bits; give \((bits + 7) / 8)")
        }
        var words = [UInt64](repeating: 0, count: BinaryCode.wordCount(bits: bits))
        for i in 0 ..< bytes.count * 8 where bytes[i / 8] & (0x80 >> UInt8(i % 8)) != 0 {
            guard i < bits else { throw CodeError.invalidPackedBytes("bit \(i) is set, past the \(bits) bits of the code") }
            words[i / 64] |= 1 << UInt64(i % 64)
        }
        try self.init(bits: bits, words: words)
    }
}
