import CHammingKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which path a multi-index search took, and what it cost.
public struct MultiIndexPlan: Equatable, Sendable {
    public enum Method: String, Sendable {
        /// The tables answered.
        case multiIndex = "mih"
        /// The tables would have cost more than a scan, so the scan answered.
        case scan
    }

    public var method: Method
    /// Distance computations (a code met in several tables counts each time).
    public var candidates: Int
    /// Buckets looked up.
    public var probes: Int
    /// The largest substring radius probed.
    public var substringRadius: Int

    /// A query the scan answered without trying the tables.
    public static let scanned = MultiIndexPlan(method: .scan, candidates: 0, probes: 0, substringRadius: 0)

    public init(method: Method, candidates: Int, probes: Int, substringRadius: Int) {
        self.method = method
        self.candidates = candidates
        self.probes = probes
        self.substringRadius = substringRadius
    }
}

/// A run of bits of a code: bits `start ..< start + length`.
public struct BitRange: Equatable, Sendable {
    public var start: Int
    public var length: Int

    public init(start: Int, length: Int) {
        self.start = start
        self.length = length
    }
}

/// How codes are cut into substrings for multi-index hashing: `m` contiguous runs whose
/// lengths differ by at most one, the longer ones first.
public struct MultiIndexLayout: Equatable, Sendable {
    public let bits: Int
    public let substrings: [BitRange]

    /// Longest substring at any size: a table's offsets array has 2^length + 1 entries.
    public static let maxSubstringBits = 24

    /// Longest substring for `count` codes: log2(count) + 4 bits (at least 8, at most 24), so a
    /// table's offsets array stays within about 16 times its id array.
    public static func maxSubstringBits(count: Int) -> Int {
        min(maxSubstringBits, max(8, Int(log2(Double(max(count, 2))).rounded(.up)) + 4))
    }

    /// Substrings of about 0.8 log2(count) bits (at least 8): m = bits / that, rounded,
    /// within the limit of `maxSubstringBits(count:)` and at least 1.
    ///
    /// Norouzi et al. choose m = bits / log2(count), one code per bucket on average, which
    /// suits uniformly random codes. Real codes are clustered and their k-th neighbour is
    /// near, so somewhat shorter substrings (fuller buckets, fewer probes) cost less. Over
    /// 1.38M codes of the default text model with the probe kernel (2026-11-30,
    /// docs/BENCHMARKS.md): 64 bits, 16-bit substrings (m = 4) 9.8x the scan against 7.4x with
    /// 13 bits (m = 5); 128 bits, m = 8 2.1x against 1.3x with m = 10. (Before the kernel
    /// prefetched whole buckets, probes cost more and 0.625 log2(count) was best.)
    public static func defaultSubstrings(bits: Int, count: Int) -> Int {
        let length = max(8.0, (log2(Double(max(count, 2))) * 0.8).rounded())
        return clamp(Int((Double(bits) / length).rounded()), bits: bits, count: count)
    }

    /// `m` moved into the range the table sizes allow.
    static func clamp(_ m: Int, bits: Int, count: Int) -> Int {
        let longest = maxSubstringBits(count: count)
        return min(bits, max(m, (bits + longest - 1) / longest, 1))
    }

    /// The layout for `count` codes of `bits` bits.
    /// - Parameter m: substrings wanted (default `defaultSubstrings`); raised when needed so no
    ///   substring is longer than `maxSubstringBits(count:)`, and at most `bits`.
    public init(bits: Int, count: Int, substrings m: Int? = nil) {
        self.init(bits: bits, parts: Self.clamp(m ?? Self.defaultSubstrings(bits: bits, count: count), bits: bits, count: count))
    }

    /// The layout of exactly `parts` substrings (1...bits; each at most 24 bits).
    public init?(bits: Int, exactly parts: Int) {
        guard bits >= 1, parts >= 1, parts <= bits, (bits + parts - 1) / parts <= Self.maxSubstringBits else { return nil }
        self.init(bits: bits, parts: parts)
    }

    private init(bits: Int, parts: Int) {
        self.bits = bits
        var ranges: [BitRange] = []
        var start = 0
        for t in 0..<parts {
            let length = bits / parts + (t < bits % parts ? 1 : 0)
            ranges.append(BitRange(start: start, length: length))
            start += length
        }
        substrings = ranges
    }

    /// The value of bits `range` of a code.
    @inline(__always)
    public static func substring(_ code: UnsafePointer<UInt64>, _ range: BitRange) -> UInt32 {
        let w = range.start / 64, shift = range.start % 64
        var v = code[w] >> UInt64(shift)
        if shift + range.length > 64 { v |= code[w + 1] << UInt64(64 - shift) }
        return UInt32(truncatingIfNeeded: v & ((1 << UInt64(range.length)) - 1))
    }

    /// Bytes of table `t` over `entries` codes of `words` words, in the layout `writeTable`
    /// fills and `MultiIndexTable.init(layout:table:entries:words:bytes:)` reads: UInt32
    /// offsets (2^length + 1), UInt32 slots (one per entry), zero padding to a multiple of 8
    /// bytes, then each entry's code (`words` UInt64s), all in memory order.
    public func tableByteCount(_ t: Int, entries: Int, words: Int) -> Int {
        let header = (1 << substrings[t].length) + 1 + entries
        return 4 * (header + header % 2) + 8 * words * entries
    }

    /// Writes table `t` over the codes of `slots` into `out` (`tableByteCount` bytes, 8-byte
    /// aligned) by counting sort: the entries whose substring t has value v are
    /// `offsets[v] ..< offsets[v + 1]`, each a slot (ascending within a bucket) and a copy of
    /// its code, so a probe reads a bucket's codes in one sequential run.
    public func writeTable(_ t: Int, codes: SlotCodes, slots: Range<Int>, into out: UnsafeMutableRawPointer) {
        precondition(slots.lowerBound >= 0 && slots.upperBound <= codes.count && slots.upperBound <= Int(UInt32.max))
        precondition(Int(bitPattern: out) % 8 == 0, "a table must be 8-byte aligned")
        let range = substrings[t], words = codes.words, n = slots.count
        let buckets = 1 << range.length
        let header = buckets + 1 + n
        let offsets = out.bindMemory(to: UInt32.self, capacity: header + header % 2)
        let ids = offsets + buckets + 1
        if header % 2 == 1 { ids[n] = 0 }
        let copies = (out + 4 * (header + header % 2)).bindMemory(to: UInt64.self, capacity: n * words)
        offsets.initialize(repeating: 0, count: buckets + 1)
        codes.forEachRun(slots) { _, run, count in
            for i in 0..<count { offsets[Int(Self.substring(run + i * words, range)) + 1] &+= 1 }
        }
        for v in 0..<buckets { offsets[v + 1] &+= offsets[v] }
        let next = UnsafeMutablePointer<UInt32>.allocate(capacity: buckets)
        defer { next.deallocate() }
        next.initialize(from: offsets, count: buckets)
        codes.forEachRun(slots) { first, run, count in
            for i in 0..<count {
                let code = run + i * words
                let v = Int(Self.substring(code, range))
                let entry = Int(next[v])
                next[v] = UInt32(truncatingIfNeeded: entry + 1)
                ids[entry] = UInt32(truncatingIfNeeded: first + i)
                (copies + entry * words).update(from: code, count: words)
            }
        }
    }
}
