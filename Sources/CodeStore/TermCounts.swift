import CHammingKernels

/// A document's terms for the lexical stage: each distinct term as a 64-bit hash with its count,
/// ascending by hash, and the document's length in terms.
///
/// Terms are 48-bit hashes (the encoder's `TermHash`), so any word, identifier or number
/// matches exactly whether or not a model knows it; two distinct terms share a hash with
/// probability about n^2 / 2^49 for n distinct terms in the index (0.002 for a million).
public struct TermCounts: Equatable, Sendable {
    /// Distinct term hashes (48 bits), ascending.
    public private(set) var hashes: [UInt64]
    /// Count of each term, saturating at 255 (BM25 saturates long before: with k1 = 1.2 the
    /// weights of 255 and of 1,000 occurrences differ by 0.4%).
    public private(set) var counts: [UInt8]
    /// Terms in the document (with repetitions).
    public private(set) var length: Int

    /// Counts `terms` (with repetitions).
    /// - Precondition: every hash fits in 48 bits (`TermHash`).
    public init(terms: [UInt64]) {
        let sorted = terms.sorted()
        var hashes: [UInt64] = [], counts: [UInt8] = []
        for h in sorted {
            precondition(h >> 48 == 0, "term hashes have 48 bits")
            if hashes.last == h { counts[counts.count - 1] = counts[counts.count - 1] == 255 ? 255 : counts[counts.count - 1] + 1 }
            else { hashes.append(h); counts.append(1) }
        }
        self.hashes = hashes
        self.counts = counts
        self.length = terms.count
    }

    /// Stored form: UInt32 LE length, UInt32 LE n, n x 6-byte LE hash, n x UInt8 count
    /// (7 bytes a distinct term).
    func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 8 + 7 * hashes.count)
        let n = hashes.count
        withUnsafeBytes(of: UInt32(clamping: length).littleEndian) { for i in 0..<4 { out[i] = $0[i] } }
        withUnsafeBytes(of: UInt32(n).littleEndian) { for i in 0..<4 { out[4 + i] = $0[i] } }
        for (j, h) in hashes.enumerated() { for i in 0..<6 { out[8 + 6 * j + i] = UInt8(truncatingIfNeeded: h >> (8 * UInt64(i))) } }
        for (j, c) in counts.enumerated() { out[8 + 6 * n + j] = c }
        return out
    }

    /// These counts without the terms that `isKept` rejects (the length stays: it counts the
    /// document's words, not the terms kept).
    func keeping(_ isKept: (UInt64) throws -> Bool) rethrows -> TermCounts {
        var copy = self
        let kept = try hashes.indices.filter { try isKept(hashes[$0]) }
        copy.hashes = kept.map { hashes[$0] }
        copy.counts = kept.map { counts[$0] }
        return copy
    }

    /// Reads the stored form; nil when the bytes are not one (a damaged record).
    package init?(encoded raw: UnsafeRawBufferPointer) {
        guard let view = StoredTerms(raw) else { return nil }
        hashes = (0..<view.count).map(view.hash)
        counts = (0..<view.count).map(view.termCount)
        length = view.length
        for i in hashes.indices.dropFirst() where hashes[i - 1] >= hashes[i] { return nil }
    }
}

/// The stored form of `TermCounts` read in place (the one reader of that layout: decoding and
/// BM25's scoring both go through it).
struct StoredTerms {
    let raw: UnsafeRawBufferPointer
    /// Terms in the document (with repetitions).
    let length: Int
    /// Distinct terms.
    let count: Int

    /// Nil when the bytes are not a stored term record.
    init?(_ raw: UnsafeRawBufferPointer) {
        guard raw.count >= 8 else { return nil }
        let n = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard raw.count == 8 + 7 * n else { return nil }
        self.raw = raw
        length = Int(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
        count = n
    }

    /// The hash of distinct term `j` (48 bits). With two terms or more, one 8-byte load whose
    /// top two bytes (the next hash's, or the counts') are masked off: 8 + 6j + 8 <= 8 + 7n
    /// holds for every j < n when n >= 2.
    @inline(__always) func hash(_ j: Int) -> UInt64 {
        let o = 8 + 6 * j
        if count >= 2 { return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)) & 0xFFFF_FFFF_FFFF }
        return UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
            | UInt64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: o + 4, as: UInt16.self))) << 32
    }

    /// The count of distinct term `j`.
    @inline(__always) func termCount(_ j: Int) -> UInt8 { raw[8 + 6 * count + j] }

    /// Asks the CPU to fetch what a binary search in a record about to be read touches first:
    /// its header and the hashes of the search's first two levels (the middle one, then a
    /// quarter from either end), found from the record's size alone (reading its header would
    /// wait for the very load this starts).
    @inline(__always) static func prefetchSearch(_ raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress else { return }
        let n = max(0, raw.count - 8) / 7
        tq_prefetch(base)
        tq_prefetch(base + 8 + 6 * (n / 2))
        tq_prefetch(base + 8 + 6 * (n / 4))
        tq_prefetch(base + 8 + 6 * (3 * n / 4))
    }

    /// Asks the CPU to fetch a record about to be read: every line of it, at most the first
    /// `maxLines` (a record scored against many query terms reads all its hashes, a binary
    /// search probes lines anywhere in it). Measured on the 20 Newsgroups batch against fetching
    /// the header and the middle line alone: docs/BENCHMARKS.md.
    @inline(__always) static func prefetch(_ raw: UnsafeRawBufferPointer, maxLines: Int = 16) {
        guard let base = raw.baseAddress else { return }
        var offset = 0
        let end = min(raw.count, 64 * maxLines)
        while offset < end { tq_prefetch(base + offset); offset += 64 }
    }
}
