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
}
