/// A document's terms for the lexical stage: each distinct term as a 64-bit hash with its count,
/// ascending by hash, and the document's length in terms.
///
/// Terms are 64-bit hashes (the encoder's `TermHash`), so any word, identifier or number matches exactly whether or
/// not a model knows it; two distinct terms share a hash with probability about n^2 / 2^65 for
/// n distinct terms in the index (about 3e-8 for a million).
public struct TermCounts: Equatable, Sendable {
    /// Distinct term hashes, ascending.
    public private(set) var hashes: [UInt64]
    /// Count of each term (saturating at UInt32.max).
    public private(set) var counts: [UInt32]
    /// Terms in the document (with repetitions).
    public private(set) var length: Int

    /// Counts `terms` (with repetitions).
    public init(terms: [UInt64]) {
        let sorted = terms.sorted()
        var hashes: [UInt64] = [], counts: [UInt32] = []
        for h in sorted {
            if hashes.last == h { counts[counts.count - 1] &+= 1 } else { hashes.append(h); counts.append(1) }
        }
        self.hashes = hashes
        self.counts = counts
        self.length = terms.count
    }

    /// The count of `hash` (0 when absent), by binary search.
    public func count(of hash: UInt64) -> Int {
        var lo = 0, hi = hashes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if hashes[mid] < hash { lo = mid + 1 } else { hi = mid }
        }
        return lo < hashes.count && hashes[lo] == hash ? Int(counts[lo]) : 0
    }

    /// Stored form: UInt32 LE length, UInt32 LE n, n x UInt64 LE hash, n x UInt32 LE count.
    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8 + 12 * hashes.count)
        out += le(UInt32(clamping: length))
        out += le(UInt32(hashes.count))
        for h in hashes { out += le(h) }
        for c in counts { out += le(c) }
        return out
    }

    /// Reads the stored form; nil when the bytes are not one (a damaged record).
    init?(encoded raw: UnsafeRawBufferPointer) {
        guard raw.count >= 8 else { return nil }
        let length = Int(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
        let n = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard raw.count == 8 + 12 * n else { return nil }
        hashes = (0..<n).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 + 8 * $0, as: UInt64.self)) }
        counts = (0..<n).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8 + 8 * n + 4 * $0, as: UInt32.self)) }
        self.length = length
        for i in hashes.indices.dropFirst() where hashes[i - 1] >= hashes[i] { return nil }
    }
}
