import CHammingKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Codes of one width addressed by slot, over blocks of equal size (the last may be shorter):
/// an index's chunks as they lie in the memory map, or a `CodeMatrix` as one block. Every
/// search reads its codes through this. The width travels with the codes, so a query's width
/// and k are checked once, where they enter (`HammingSearch`'s and `CodeIndex`'s public
/// methods, `MultiIndex`); below that, preconditions.
public struct SlotCodes: @unchecked Sendable {
    public let blocks: [CodeBlock]
    public let codesPerBlock: Int
    /// The codes' width, and the 64-bit words each takes.
    public let bits: Int
    public let words: Int
    /// Slots `0 ..< count`.
    public let count: Int

    /// - Precondition: block b holds slots `b * codesPerBlock ..< (b + 1) * codesPerBlock`
    ///   (the last block may hold fewer); `bits` is a supported width.
    public init(blocks: [CodeBlock], codesPerBlock: Int, bits: Int) {
        precondition(codesPerBlock >= 1 && BinaryCode.supportedBits.contains(bits))
        let words = BinaryCode.wordCount(bits: bits)
        for (b, block) in blocks.enumerated() {
            precondition(block.firstID == b * codesPerBlock && (block.count == codesPerBlock || b == blocks.count - 1),
                         "blocks must be consecutive and full but for the last")
        }
        self.blocks = blocks
        self.codesPerBlock = codesPerBlock
        self.bits = bits
        self.words = words
        self.count = blocks.reduce(0) { $0 + $1.count }
    }

    /// One block of `block.count` codes of width `bits` (slots are its rows).
    public init(single block: CodeBlock, bits: Int) {
        precondition(block.firstID == 0)
        self.init(blocks: [block], codesPerBlock: max(1, block.count), bits: bits)
    }

    @inline(__always)
    public func pointer(_ slot: Int) -> UnsafePointer<UInt64> {
        blocks[slot / codesPerBlock].words! + (slot % codesPerBlock) * words
    }

    /// Calls `body(firstSlot, codes, count)` for each run of consecutive codes of `slots`
    /// that lies in one block, in slot order.
    @inline(__always)
    public func forEachRun(_ slots: Range<Int>, _ body: (Int, UnsafePointer<UInt64>, Int) throws -> Void) rethrows {
        precondition(slots.lowerBound >= 0 && slots.upperBound <= count)
        var slot = slots.lowerBound
        while slot < slots.upperBound {
            let block = slot / codesPerBlock, offset = slot % codesPerBlock
            let n = min(codesPerBlock - offset, slots.upperBound - slot)
            try body(slot, blocks[block].words! + offset * words, n)
            slot += n
        }
    }
}

/// One direct-address table, as `MultiIndexLayout.writeTable` lays it out, wherever it lies
/// (heap memory or the memory map).
public struct MultiIndexTable: @unchecked Sendable {
    /// 2^length + 1 entries.
    public let offsets: UnsafePointer<UInt32>
    /// The slot of each entry.
    public let ids: UnsafePointer<UInt32>
    /// The code of each entry (words per code as the index's), as it was when the table was built.
    public let codes: UnsafePointer<UInt64>
    public let idCount: Int

    /// A view of table `t` of `layout` over `entries` codes in `bytes`
    /// (`layout.tableByteCount(t, entries:words:)` bytes, 8-byte aligned).
    public init(layout: MultiIndexLayout, table t: Int, entries: Int, words: Int, bytes: UnsafeRawPointer) {
        precondition(Int(bitPattern: bytes) % 8 == 0, "a table must be 8-byte aligned")
        let buckets = 1 << layout.substrings[t].length
        let header = buckets + 1 + entries
        offsets = bytes.bindMemory(to: UInt32.self, capacity: header)
        ids = offsets + buckets + 1
        codes = (bytes + 4 * (header + header % 2)).bindMemory(to: UInt64.self, capacity: entries * words)
        idCount = entries
    }
}

/// The tables over one run of slots. An index keeps its tables in levels over consecutive
/// runs of slots (the oldest and largest first) so that appending codes rebuilds only the
/// small newest levels; each level has its own layout, chosen for its size.
public struct MultiIndexLevel: @unchecked Sendable {
    public let layout: MultiIndexLayout
    /// Entries are the codes of these slots as they were when the level was built.
    public let slots: Range<Int>
    public let tables: [MultiIndexTable]

    public init(layout: MultiIndexLayout, slots: Range<Int>, tables: [MultiIndexTable]) {
        precondition(tables.count == layout.substrings.count && tables.allSatisfy { $0.idCount == slots.count })
        self.layout = layout
        self.slots = slots
        self.tables = tables
    }
}
