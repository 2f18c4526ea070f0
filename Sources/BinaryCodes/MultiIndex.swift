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
    /// Distinct codes whose full distance was computed.
    public var candidates: Int
    /// Buckets looked up.
    public var probes: Int
    /// The largest substring radius probed.
    public var substringRadius: Int
}

/// Exact Hamming search by multi-index hashing (Norouzi, Punjani and Fleet, "Fast search in
/// Hamming space with multi-index hashing", CVPR 2012), over codes held in memory.
///
/// Each code is cut into `m` contiguous substrings; table t maps every value of substring t
/// to the ids whose substring t has that value (direct addressing: an offsets array of
/// 2^length + 1 entries and one id array, built by counting sort). A query probes, for
/// r = 0, 1, 2, ..., every bucket whose substring value is at distance exactly r from its own
/// in every table, and computes the full distance of each id it meets for the first time.
/// By the pigeonhole principle a code at distance d < m (r + 1) shares some substring within
/// distance r, so once the k-th best distance found is below m (r + 1) the answer is exact.
/// Ties are ordered by id, as the scan orders them, so results are identical to the scan.
///
/// Planning: the search counts its work (bucket probes and distance computations) and, when
/// it reaches `budget` x the cost of a scan, stops and scans instead (`plan.method == .scan`):
/// wide radii, small indexes and unstructured codes then cost at most (1 + budget) scans.
public final class MultiIndex: @unchecked Sendable {
    public let bits: Int
    public let count: Int
    /// (first bit, length) of each substring; lengths differ by at most one.
    public let substrings: [(start: Int, length: Int)]
    let words: Int
    let codes: [UInt64]
    let offsets: [[UInt32]]
    let ids: [[UInt32]]

    /// Longest substring at any size: a table's offsets array has 2^length + 1 entries.
    public static let maxSubstringBits = 24

    /// Longest substring for `count` codes: log2(count) + 4 bits (at least 8, at most 24), so a
    /// table's offsets array stays within about 16 times its id array.
    public static func maxSubstringBits(count: Int) -> Int {
        min(maxSubstringBits, max(8, Int(log2(Double(max(count, 2))).rounded(.up)) + 4))
    }

    /// Norouzi et al.'s rule, m = bits / log2(count), rounded, within the limit of
    /// `maxSubstringBits(count:)` and at least 1.
    public static func defaultSubstrings(bits: Int, count: Int) -> Int {
        let rule = Int((Double(bits) / log2(Double(max(count, 2)))).rounded())
        return clamp(rule, bits: bits, count: count)
    }

    /// `m` moved into the range the table sizes allow.
    static func clamp(_ m: Int, bits: Int, count: Int) -> Int {
        let longest = maxSubstringBits(count: count)
        return min(bits, max(m, (bits + longest - 1) / longest, 1))
    }

    /// Builds the tables over the rows of `matrix` (ids are row numbers).
    /// - Parameter substrings: m; default `defaultSubstrings`. Raised when needed so that no
    ///   substring is longer than `maxSubstringBits(count:)`, and at most `bits`.
    public init(_ matrix: CodeMatrix, substrings m: Int? = nil) {
        bits = matrix.bits
        count = matrix.count
        words = matrix.wordsPerCode
        codes = matrix.storage
        let parts = Self.clamp(m ?? Self.defaultSubstrings(bits: bits, count: count), bits: bits, count: count)
        var ranges: [(start: Int, length: Int)] = []
        var start = 0
        for t in 0..<parts {
            let length = bits / parts + (t < bits % parts ? 1 : 0)
            ranges.append((start, length))
            start += length
        }
        substrings = ranges
        var allOffsets: [[UInt32]] = [], allIDs: [[UInt32]] = []
        let words = matrix.wordsPerCode, count = matrix.count
        matrix.storage.withUnsafeBufferPointer { all in
            for range in ranges {
                var offsets = [UInt32](repeating: 0, count: (1 << range.length) + 1)
                for i in 0..<count { offsets[Int(Self.substring(all.baseAddress! + i * words, range)) + 1] += 1 }
                for v in 0..<(1 << range.length) { offsets[v + 1] += offsets[v] }
                var next = offsets
                var table = [UInt32](repeating: 0, count: count)
                for i in 0..<count {
                    let v = Int(Self.substring(all.baseAddress! + i * words, range))
                    table[Int(next[v])] = UInt32(i)
                    next[v] += 1
                }
                allOffsets.append(offsets)
                allIDs.append(table)
            }
        }
        offsets = allOffsets
        ids = allIDs
    }

    /// Bytes of the tables (offsets and ids), beside the codes.
    public var tableBytes: Int { offsets.reduce(0) { $0 + 4 * $1.count } + ids.reduce(0) { $0 + 4 * $1.count } }

    /// The value of bits `range` of a code.
    @inline(__always)
    static func substring(_ code: UnsafePointer<UInt64>, _ range: (start: Int, length: Int)) -> UInt32 {
        let w = range.start / 64, shift = range.start % 64
        var v = code[w] >> UInt64(shift)
        if shift + range.length > 64 { v |= code[w + 1] << UInt64(64 - shift) }
        return UInt32(truncatingIfNeeded: v & ((1 << UInt64(range.length)) - 1))
    }

    /// The k nearest codes to `query`, ascending by (distance, id): exactly the scan's answer.
    /// - Parameter budget: the share of a scan's cost after which the search scans instead.
    public func nearest(to query: BinaryCode, k: Int, budget: Double = 0.25) throws -> (neighbors: [Neighbor], plan: MultiIndexPlan) {
        guard k >= 1 else { throw CodeError.invalidK(k) }
        guard query.bits == bits else { throw CodeError.widthMismatch(expected: bits, actual: query.bits) }
        let kept = min(k, count)
        if kept == 0 { return ([], MultiIndexPlan(method: .multiIndex, candidates: 0, probes: 0, substringRadius: 0)) }
        var search = Search(index: self, query: query.words, budget: budget)
        var best: [(distance: Int, id: Int)] = []
        best.reserveCapacity(kept + 1)
        let m = substrings.count
        let maxLength = substrings.map(\.length).max()!
        for r in 0...maxLength {
            let finished = search.probe(radius: r) { id, d in
                if best.count == kept, let last = best.last, !(d < last.distance || (d == last.distance && id < last.id)) { return }
                var pos = best.count
                while pos > 0 && (best[pos - 1].distance > d || (best[pos - 1].distance == d && best[pos - 1].id > id)) { pos -= 1 }
                best.insert((d, id), at: pos)
                if best.count > kept { best.removeLast() }
            }
            if !finished { return (try scan(query, k: kept), search.plan(.scan, radius: r)) }
            if best.count == kept, best[kept - 1].distance < m * (r + 1) {
                return (best.map { Neighbor(id: $0.id, distance: $0.distance) }, search.plan(.multiIndex, radius: r))
            }
        }
        return (best.map { Neighbor(id: $0.id, distance: $0.distance) }, search.plan(.multiIndex, radius: maxLength))
    }

    /// Every code within `radius` of `query`, ascending by (distance, id).
    public func within(radius: Int, of query: BinaryCode, budget: Double = 0.25) throws -> (neighbors: [Neighbor], plan: MultiIndexPlan) {
        guard radius >= 0 && radius <= bits else { throw CodeError.invalidRadius(radius, bits: bits) }
        guard query.bits == bits else { throw CodeError.widthMismatch(expected: bits, actual: query.bits) }
        var search = Search(index: self, query: query.words, budget: budget)
        var found: [Neighbor] = []
        // A code within `radius` has some substring within radius / m of the query's.
        let top = min(radius / substrings.count, substrings.map(\.length).max()!)
        for r in 0...top {
            let finished = search.probe(radius: r) { id, d in if d <= radius { found.append(Neighbor(id: id, distance: d)) } }
            if !finished {
                let scanned = try codes.withUnsafeBufferPointer { all in
                    try HammingSearch.within(radius: radius, of: query, blocks: [CodeBlock(words: all.baseAddress, count: count, firstID: 0)], bits: bits)
                }
                return (scanned, search.plan(.scan, radius: r))
            }
        }
        found.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
        return (found, search.plan(.multiIndex, radius: top))
    }

    func scan(_ query: BinaryCode, k: Int) throws -> [Neighbor] {
        let queries = try CodeMatrix(bits: bits, words: query.words)
        var options = SearchOptions(threads: 1)
        options.minPairsForThreads = .max
        return try codes.withUnsafeBufferPointer { all in
            try HammingSearch.nearest(queries: queries, blocks: [CodeBlock(words: all.baseAddress, count: count, firstID: 0)],
                                      bits: bits, k: k, options: options)[0]
        }
    }

    /// The state of one query: codes seen, work done, and the budget.
    struct Search {
        let index: MultiIndex
        let query: [UInt64]
        var seen: [UInt64]
        var candidates = 0
        var probes = 0
        let limit: Double

        init(index: MultiIndex, query: [UInt64], budget: Double) {
            self.index = index
            self.query = query
            seen = [UInt64](repeating: 0, count: (index.count + 63) / 64)
            // Work in units of one code word of the streaming scan (about 0.5 ns here). A table
            // visit is a random access, mostly a cache miss once the tables outgrow the cache: a
            // probe counts 128 units and a candidate 64 plus its words (fitted to 1M 64-bit and
            // 256-bit codes on this machine, 2026-11-29).
            limit = budget * Double(index.count * index.words)
        }

        func plan(_ method: MultiIndexPlan.Method, radius: Int) -> MultiIndexPlan {
            MultiIndexPlan(method: method, candidates: candidates, probes: probes, substringRadius: radius)
        }

        /// Probes every bucket at substring distance exactly `radius` in every table, calling
        /// `visit(id, distance)` once per code not seen before. Returns false when the budget
        /// ran out (the caller then scans).
        mutating func probe(radius: Int, _ visit: (Int, Int) -> Void) -> Bool {
            let words = index.words
            return index.codes.withUnsafeBufferPointer { all in
                query.withUnsafeBufferPointer { q in
                    for (t, range) in index.substrings.enumerated() where radius <= range.length {
                        let own = MultiIndex.substring(q.baseAddress!, range)
                        let offsets = index.offsets[t], ids = index.ids[t]
                        // Every mask of `radius` set bits among `length`, in increasing order (Gosper's hack).
                        var mask: UInt64 = radius == 0 ? 0 : (1 << UInt64(radius)) - 1
                        let end: UInt64 = 1 << UInt64(range.length)
                        while mask < end {
                            let v = Int(own ^ UInt32(truncatingIfNeeded: mask))
                            probes += 1
                            for slot in Int(offsets[v]) ..< Int(offsets[v + 1]) {
                                let id = Int(ids[slot])
                                if seen[id >> 6] & (1 << UInt64(id & 63)) != 0 { continue }
                                seen[id >> 6] |= 1 << UInt64(id & 63)
                                candidates += 1
                                let code = all.baseAddress! + id * words
                                var d = 0
                                for w in 0..<words { d += (code[w] ^ q[w]).nonzeroBitCount }
                                visit(id, d)
                            }
                            if Double(candidates * (64 + words) + 128 * probes) > limit { return false }
                            if radius == 0 { break }
                            let c = mask & (~mask &+ 1)
                            let r = mask &+ c
                            mask = (((r ^ mask) >> 2) / c) | r
                        }
                    }
                    return true
                }
            }
        }
    }
}
