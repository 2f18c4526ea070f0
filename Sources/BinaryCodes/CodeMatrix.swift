/// N codes of one width stored contiguously: row `i` occupies words
/// `i * wordsPerCode ..< (i + 1) * wordsPerCode`. The layout the kernels scan and the store
/// keeps on disk.
public struct CodeMatrix: Sendable {
    /// Code width in bits.
    public let bits: Int
    /// 64-bit words per code (`ceil(bits / 64)`).
    public let wordsPerCode: Int
    /// Row-major words; padding bits are zero.
    public private(set) var storage: [UInt64]

    /// An empty matrix of `bits`-bit codes.
    public init(bits: Int) throws {
        guard BinaryCode.supportedBits.contains(bits) else { throw CodeError.unsupportedWidth(bits: bits) }
        self.bits = bits
        self.wordsPerCode = BinaryCode.wordCount(bits: bits)
        self.storage = []
    }

    /// A matrix over existing row-major words.
    /// - Throws: `CodeError` when the word count is not a multiple of the code size or a
    ///   row has padding bits set.
    public init(bits: Int, words: [UInt64]) throws {
        try self.init(bits: bits)
        guard words.count % wordsPerCode == 0 else {
            throw CodeError.wordCountMismatch(bits: bits, expectedWords: wordsPerCode, actualWords: words.count % wordsPerCode)
        }
        let mask = BinaryCode.lastWordMask(bits: bits)
        var row = wordsPerCode - 1
        while row < words.count {
            guard words[row] & ~mask == 0 else { throw CodeError.paddingBitsSet(bits: bits) }
            row += wordsPerCode
        }
        self.storage = words
    }

    /// Number of codes.
    public var count: Int { storage.count / wordsPerCode }
    public var isEmpty: Bool { storage.isEmpty }

    /// Appends a code of the same width.
    public mutating func append(_ code: BinaryCode) throws {
        guard code.bits == bits else { throw CodeError.widthMismatch(expected: bits, actual: code.bits) }
        storage.append(contentsOf: code.words)
    }

    /// The code at `row`.
    public subscript(row: Int) -> BinaryCode {
        precondition(row >= 0 && row < count, "row \(row) out of range 0..<\(count)")
        let start = row * wordsPerCode
        return try! BinaryCode(bits: bits, words: Array(storage[start ..< start + wordsPerCode]))
    }

    /// The matrix of the given rows, in that order.
    package func rows(_ rows: [Int]) -> CodeMatrix {
        var copy = self
        copy.storage = []
        copy.storage.reserveCapacity(rows.count * wordsPerCode)
        for row in rows {
            precondition(row >= 0 && row < count, "row \(row) out of range 0..<\(count)")
            copy.storage.append(contentsOf: storage[row * wordsPerCode ..< (row + 1) * wordsPerCode])
        }
        return copy
    }

    /// Calls `body` with the matrix as a block of codes whose ids start at `firstID`.
    /// The block is valid only during the execution of the closure.
    /// Calls `body` with the words of row `row`.
    package func withCode<R>(_ row: Int, _ body: (UnsafePointer<UInt64>) throws -> R) rethrows -> R {
        precondition(row >= 0 && row < count, "row \(row) out of 0..<\(count)")
        return try storage.withUnsafeBufferPointer { try body($0.baseAddress! + row * wordsPerCode) }
    }

    package func withBlock<R>(firstID: Int = 0, _ body: (CodeBlock) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { buffer in
            try body(CodeBlock(words: buffer.baseAddress, count: count, firstID: firstID))
        }
    }

    /// Calls `body` with the rows as slot-addressed codes of this width (slot = row).
    package func withSlotCodes<R>(_ body: (SlotCodes) throws -> R) rethrows -> R {
        try withBlock { try body(SlotCodes(single: $0, bits: bits)) }
    }
}

/// A borrowed run of contiguous codes: `count` rows of the search's width starting at `words`,
/// the row `i` having id `firstID + i`. The pointer is borrowed from a `CodeMatrix` or a
/// memory-mapped store and valid only while its owner keeps it alive (a closure or a read
/// transaction).
public struct CodeBlock: @unchecked Sendable {
    public let words: UnsafePointer<UInt64>?
    public let count: Int
    public let firstID: Int

    public init(words: UnsafePointer<UInt64>?, count: Int, firstID: Int) {
        precondition(count == 0 || words != nil, "a non-empty block needs storage")
        self.words = words
        self.count = count
        self.firstID = firstID
    }
}
