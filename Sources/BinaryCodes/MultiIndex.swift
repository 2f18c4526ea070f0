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

    /// Substrings of about 0.625 log2(count) bits (at least 8): m = bits / that, rounded,
    /// within the limit of `maxSubstringBits(count:)` and at least 1.
    ///
    /// Norouzi et al. choose m = bits / log2(count), one code per bucket on average, which
    /// suits uniformly random codes. Real codes are clustered and their k-th neighbour is
    /// near, so shorter substrings (fuller buckets, fewer probes) cost less: over 1.38M
    /// 64-bit codes of the default text model, exact 10-NN took 0.83 ms with m = 3 (their rule),
    /// 0.22 ms with m = 4, 0.19 ms with m = 5 and 0.18 ms with m = 6 (docs/BENCHMARKS.md).
    public static func defaultSubstrings(bits: Int, count: Int) -> Int {
        let length = max(8.0, (log2(Double(max(count, 2))) * 0.625).rounded())
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

    /// Builds one direct-address table per substring over slots `0 ..< codes.count` by
    /// counting sort: `offsets` has 2^length + 1 entries, and the entries whose substring has
    /// value v are `offsets[v] ..< offsets[v + 1]`, each a slot (ascending within a bucket)
    /// and a copy of its code (`words` per entry), so a probe reads a bucket's codes in one
    /// sequential run.
    public func buildTables(_ codes: SlotCodes) -> [BuiltTable] {
        substrings.indices.map { buildTable($0, codes) }
    }

    /// Table `t` of `buildTables`, alone (so a caller can write each before building the next).
    public func buildTable(_ t: Int, _ codes: SlotCodes) -> BuiltTable {
        do {
            let range = substrings[t]
            var offsets = [UInt32](repeating: 0, count: (1 << range.length) + 1)
            for i in 0..<codes.count { offsets[Int(Self.substring(codes.pointer(i), range)) + 1] += 1 }
            for v in 0..<(1 << range.length) { offsets[v + 1] += offsets[v] }
            var next = offsets
            var ids = [UInt32](repeating: 0, count: codes.count)
            var copies = [UInt64](repeating: 0, count: codes.count * codes.words)
            for i in 0..<codes.count {
                let code = codes.pointer(i)
                let v = Int(Self.substring(code, range))
                let entry = Int(next[v])
                ids[entry] = UInt32(i)
                for w in 0..<codes.words { copies[entry * codes.words + w] = code[w] }
                next[v] += 1
            }
            return BuiltTable(offsets: offsets, ids: ids, codes: copies)
        }
    }
}

/// One table as `MultiIndexLayout.buildTables` makes it, in heap arrays.
public struct BuiltTable: Sendable {
    public var offsets: [UInt32]
    public var ids: [UInt32]
    /// The code of each entry, in entry order.
    public var codes: [UInt64]
}

/// Codes addressed by slot over blocks of equal size (the last may be shorter), as an
/// index's chunks lie in the memory map.
public struct SlotCodes: @unchecked Sendable {
    public let blocks: [CodeBlock]
    public let codesPerBlock: Int
    public let words: Int
    /// Slots `0 ..< count`.
    public let count: Int

    /// - Precondition: block b holds slots `b * codesPerBlock ..< (b + 1) * codesPerBlock`
    ///   (the last block may hold fewer).
    public init(blocks: [CodeBlock], codesPerBlock: Int, words: Int) {
        precondition(codesPerBlock >= 1 && words >= 1)
        for (b, block) in blocks.enumerated() {
            precondition(block.firstID == b * codesPerBlock && (block.count == codesPerBlock || b == blocks.count - 1),
                         "blocks must be consecutive and full but for the last")
        }
        self.blocks = blocks
        self.codesPerBlock = codesPerBlock
        self.words = words
        self.count = blocks.reduce(0) { $0 + $1.count }
    }

    @inline(__always)
    public func pointer(_ slot: Int) -> UnsafePointer<UInt64> {
        blocks[slot / codesPerBlock].words! + (slot % codesPerBlock) * words
    }
}

/// One direct-address table, as `MultiIndexLayout.buildTables` makes it, wherever it lies
/// (heap arrays or the memory map).
public struct MultiIndexTable: @unchecked Sendable {
    /// 2^length + 1 entries.
    public let offsets: UnsafePointer<UInt32>
    /// The slot of each entry.
    public let ids: UnsafePointer<UInt32>
    /// The code of each entry (words per code as the index's), as it was when the table was built.
    public let codes: UnsafePointer<UInt64>
    public let idCount: Int

    public init(offsets: UnsafePointer<UInt32>, ids: UnsafePointer<UInt32>, codes: UnsafePointer<UInt64>, idCount: Int) {
        self.offsets = offsets
        self.ids = ids
        self.codes = codes
        self.idCount = idCount
    }
}

/// Exact Hamming search by multi-index hashing (Norouzi, Punjani and Fleet, "Fast search in
/// Hamming space with multi-index hashing", CVPR 2012) over tables and codes given as views.
///
/// A query probes, for r = 0, 1, 2, ..., every bucket whose substring value is at distance
/// exactly r from its own in every table, and computes the full distance of each slot it
/// meets. By the pigeonhole principle a code at distance d < m (r + 1) shares some substring
/// within distance r, so once the k-th best distance found is below m (r + 1) the answer is
/// exact. Ties are ordered by slot, as the scan orders them, so results are identical to the
/// scan's.
///
/// Each table entry carries a copy of its code, so a probe computes the distances of a
/// bucket from one sequential run of memory instead of one random read per candidate.
///
/// The tables may be older than the codes: `pending` (ascending) lists every slot whose code
/// is not in the tables as it is now (appended or changed since they were built). Those are
/// compared directly first, from the current codes; a table entry counts only when its slot
/// is below `codes.count` and not pending (checked only for entries that would enter the
/// answer). So the answer is exact as long as every slot outside `pending` still has the
/// code the tables were built from.
///
/// There is no "seen" set: a slot can be met in at most m tables (once per table, at the
/// radius equal to its substring distance there), and recomputing a distance costs less than
/// clearing a bitset over the whole index for every query.
public enum MultiIndexSearch {
    /// Work is counted in units of one code word of the streaming scan (about 0.56 ns here).
    /// A probe lands on a random bucket of tables far larger than the cache (offsets, slots and
    /// codes: a few misses): 256 units. A candidate is read in sequence with its bucket: 2
    /// units plus 2 per word. A pending code is a random read: 16 units plus its words.
    /// Fitted to exact 10-NN over 1.38M real 64-bit codes with m = 4, 5 and 6 on this machine
    /// (2026-11-30, docs/BENCHMARKS.md).
    static let probeCost = 256.0
    static let candidateCost = 2.0
    static let candidateWordCost = 2.0
    static let pendingCost = 16.0

    struct Work {
        let words: Int
        let limit: Double
        var candidates = 0
        var probes = 0
        var pending = 0
        var exhausted: Bool {
            Double(candidates) * (MultiIndexSearch.candidateCost + MultiIndexSearch.candidateWordCost * Double(words))
                + MultiIndexSearch.probeCost * Double(probes) + Double(pending) * (MultiIndexSearch.pendingCost + Double(words)) > limit
        }

        init(codes: SlotCodes, budget: Double) {
            words = codes.words
            limit = budget * Double(codes.count * codes.words)
        }

        func plan(_ method: MultiIndexPlan.Method, radius: Int) -> MultiIndexPlan {
            MultiIndexPlan(method: method, candidates: candidates, probes: probes, substringRadius: radius)
        }
    }

    /// Visits every slot of `pending` (below `codes.count`) with its current code.
    static func visitPending(_ pending: UnsafeBufferPointer<UInt32>, query: UnsafePointer<UInt64>, codes: SlotCodes,
                             work: inout Work, _ visit: (Int, Int) -> Void) {
        for raw in pending {
            let slot = Int(raw)
            guard slot < codes.count else { continue }
            work.pending += 1
            visit(slot, distance(codes.pointer(slot), query, codes.words))
        }
    }

    @inline(__always)
    static func distance(_ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, _ words: Int) -> Int {
        var d = 0
        for w in 0..<words { d += (a[w] ^ b[w]).nonzeroBitCount }
        return d
    }

    /// Whether a table entry for `slot` still holds the slot's code.
    @inline(__always)
    static func isCurrent(_ slot: Int, live: Int, pending: UnsafeBufferPointer<UInt32>) -> Bool {
        guard slot < live else { return false }
        guard !pending.isEmpty else { return true }
        var low = 0, high = pending.count
        while low < high {
            let mid = (low + high) / 2
            if Int(pending[mid]) < slot { low = mid + 1 } else { high = mid }
        }
        return low == pending.count || Int(pending[low]) != slot
    }

    /// Probes every bucket of table `t` at substring distance exactly `radius` and calls
    /// `visit(distance, slot)` for each entry at distance <= `limit`; `visit` checks
    /// `isCurrent` before it keeps one, and returns the new limit. Returns false when the
    /// budget ran out (the caller then scans).
    @inline(__always)
    static func probe(radius: Int, table t: Int, query: UnsafePointer<UInt64>, layout: MultiIndexLayout, tables: [MultiIndexTable],
                      words: Int, level: tq_level_t, scratch: UnsafeMutableBufferPointer<UInt32>,
                      limit: inout Int, work: inout Work, _ visit: (Int, Int) -> Int) -> Bool {
        do {
            let range = layout.substrings[t]
            let own = MultiIndexLayout.substring(query, range)
            let table = tables[t]
            // Every mask of `radius` set bits among `length`, in increasing order (Gosper's hack).
            var mask: UInt64 = radius == 0 ? 0 : (1 << UInt64(radius)) - 1
            let end: UInt64 = 1 << UInt64(range.length)
            while mask < end {
                let v = Int(own ^ UInt32(truncatingIfNeeded: mask))
                work.probes += 1
                let first = Int(table.offsets[v]), last = min(Int(table.offsets[v + 1]), table.idCount)
                if first < last {
                    work.candidates += last - first
                    // The bucket's entries within the limit, by the popcount kernel (Swift's own
                    // popcount is a bit-twiddling sequence on the baseline x86-64 target); the
                    // limit only tightens, so `visit` sees a superset and checks again.
                    var start = first
                    while start < last {
                        let n = min(scratch.count / 2, last - start)
                        let index = scratch.baseAddress!, dist = scratch.baseAddress! + scratch.count / 2
                        let found = Int(tq_filter_within(level, table.codes + start * words, Int64(n), Int64(words), query,
                                                         UInt32(clamping: limit), index, dist))
                        for i in 0..<found where Int(dist[i]) <= limit {
                            limit = visit(Int(dist[i]), Int(table.ids[start + Int(index[i])]))
                        }
                        start += n
                    }
                }
                if work.exhausted { return false }
                if radius == 0 { break }
                let c = mask & (~mask &+ 1)
                let r = mask &+ c
                mask = (((r ^ mask) >> 2) / c) | r
            }
        }
        return true
    }

    /// The k nearest slots to `query`, ascending by (distance, slot), or nil (with the plan of
    /// the work done) when the budget ran out first and the caller should scan.
    /// - Parameters:
    ///   - k: at least 1.
    ///   - budget: the share of a single-threaded scan's cost after which the search gives up.
    public static func nearest(to query: UnsafePointer<UInt64>, k: Int, layout: MultiIndexLayout, tables: [MultiIndexTable],
                               codes: SlotCodes, pending: UnsafeBufferPointer<UInt32>, budget: Double,
                               kernel: KernelLevel = .best) -> (neighbors: [Neighbor]?, plan: MultiIndexPlan) {
        precondition(k >= 1 && tables.count == layout.substrings.count)
        let scratch = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 1024)
        defer { scratch.deallocate() }
        var work = Work(codes: codes, budget: budget)
        let kept = min(k, codes.count)
        if kept == 0 { return ([], work.plan(.multiIndex, radius: 0)) }
        var best: [Neighbor] = []
        best.reserveCapacity(kept + 1)
        func offer(_ slot: Int, _ d: Int) {
            if best.count == kept, let last = best.last, !(d < last.distance || (d == last.distance && slot < last.id)) { return }
            var pos = best.count
            while pos > 0 && (best[pos - 1].distance > d || (best[pos - 1].distance == d && best[pos - 1].id >= slot)) {
                if best[pos - 1].id == slot { return } // met before, in another table
                pos -= 1
            }
            best.insert(Neighbor(id: slot, distance: d), at: pos)
            if best.count > kept { best.removeLast() }
        }
        visitPending(pending, query: query, codes: codes, work: &work, offer)
        let live = codes.count
        var limit = best.count == kept ? best[kept - 1].distance : Int.max
        let fromTables = { (d: Int, slot: Int) -> Int in
            if isCurrent(slot, live: live, pending: pending) { offer(slot, d) }
            return best.count == kept ? best[kept - 1].distance : Int.max
        }
        let m = layout.substrings.count
        let maxLength = layout.substrings.map(\.length).max()!
        for r in 0...maxLength {
            for t in 0..<m where r <= layout.substrings[t].length {
                guard probe(radius: r, table: t, query: query, layout: layout, tables: tables, words: codes.words, level: kernel.cLevel,
                            scratch: scratch, limit: &limit, work: &work, fromTables) else {
                    return (nil, work.plan(.scan, radius: r))
                }
                // Tables 0...t are done at radius r, the others at r - 1: a code at distance
                // d < m r + t + 1 has some substring within those radii (pigeonhole), so it
                // has been met.
                if best.count == kept, best[kept - 1].distance < m * r + t + 1 { return (best, work.plan(.multiIndex, radius: r)) }
            }
        }
        return (best, work.plan(.multiIndex, radius: maxLength))
    }

    /// Every slot within `radius` of `query`, ascending by (distance, slot), or nil when the
    /// budget ran out first.
    public static func within(radius: Int, of query: UnsafePointer<UInt64>, layout: MultiIndexLayout, tables: [MultiIndexTable],
                              codes: SlotCodes, pending: UnsafeBufferPointer<UInt32>, budget: Double,
                              kernel: KernelLevel = .best) -> (neighbors: [Neighbor]?, plan: MultiIndexPlan) {
        precondition(radius >= 0 && tables.count == layout.substrings.count)
        let scratch = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 1024)
        defer { scratch.deallocate() }
        var work = Work(codes: codes, budget: budget)
        var found: [Neighbor] = []
        let collect = { (slot: Int, d: Int) in if d <= radius { found.append(Neighbor(id: slot, distance: d)) } }
        visitPending(pending, query: query, codes: codes, work: &work, collect)
        let live = codes.count
        var limit = radius
        let fromTables = { (d: Int, slot: Int) -> Int in
            if isCurrent(slot, live: live, pending: pending) { found.append(Neighbor(id: slot, distance: d)) }
            return radius
        }
        // A code within `radius` has some substring within radius / m of the query's; more
        // finely, once tables 0...t are done at r and the rest at r - 1, every code within
        // m r + t of the query has been met.
        let m = layout.substrings.count
        let top = min(radius / m, layout.substrings.map(\.length).max()!)
        search: for r in 0...top {
            for t in 0..<m where r <= layout.substrings[t].length {
                guard probe(radius: r, table: t, query: query, layout: layout, tables: tables, words: codes.words, level: kernel.cLevel,
                            scratch: scratch, limit: &limit, work: &work, fromTables) else {
                    return (nil, work.plan(.scan, radius: r))
                }
                if radius < m * r + t + 1 { break search }
            }
        }
        found.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
        var unique: [Neighbor] = []
        unique.reserveCapacity(found.count)
        for n in found where unique.last != n { unique.append(n) }
        return (unique, work.plan(.multiIndex, radius: top))
    }
}

/// Multi-index hashing over codes held in memory (ids are row numbers), with the scan as
/// fallback. `CodeIndex` keeps the same tables in LMDB.
///
/// Planning: the search counts its work (bucket probes and distance computations) and, when
/// it reaches `budget` x the cost of a scan, stops and scans instead (`plan.method == .scan`):
/// wide radii, small indexes and unstructured codes then cost at most (1 + budget) scans.
public final class MultiIndex: @unchecked Sendable {
    public let bits: Int
    public let count: Int
    public let layout: MultiIndexLayout
    /// The substrings of `layout`.
    public var substrings: [BitRange] { layout.substrings }
    let words: Int
    let codes: [UInt64]
    /// Each table's offsets and ids, allocated here so that views of them stay valid for the
    /// life of the object.
    private let storage: [(offsets: UnsafeMutableBufferPointer<UInt32>, ids: UnsafeMutableBufferPointer<UInt32>, codes: UnsafeMutableBufferPointer<UInt64>)]

    public static var maxSubstringBits: Int { MultiIndexLayout.maxSubstringBits }
    public static func maxSubstringBits(count: Int) -> Int { MultiIndexLayout.maxSubstringBits(count: count) }
    public static func defaultSubstrings(bits: Int, count: Int) -> Int { MultiIndexLayout.defaultSubstrings(bits: bits, count: count) }

    /// Builds the tables over the rows of `matrix` (ids are row numbers).
    /// - Parameter substrings: m; see `MultiIndexLayout.init(bits:count:substrings:)`.
    public init(_ matrix: CodeMatrix, substrings m: Int? = nil) {
        bits = matrix.bits
        count = matrix.count
        words = matrix.wordsPerCode
        codes = matrix.storage
        let layout = MultiIndexLayout(bits: bits, count: count, substrings: m)
        self.layout = layout
        let built = codes.withUnsafeBufferPointer { all in
            layout.buildTables(SlotCodes(blocks: [CodeBlock(words: all.baseAddress, count: matrix.count, firstID: 0)],
                                         codesPerBlock: max(1, matrix.count), words: matrix.wordsPerCode))
        }
        storage = built.map { table in
            let offsets = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: table.offsets.count)
            _ = offsets.initialize(from: table.offsets)
            let ids = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: max(1, table.ids.count))
            _ = ids.initialize(from: table.ids)
            let codes = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(1, table.codes.count))
            _ = codes.initialize(from: table.codes)
            return (offsets, ids, codes)
        }
    }

    deinit {
        for table in storage {
            table.offsets.deallocate()
            table.ids.deallocate()
            table.codes.deallocate()
        }
    }

    /// Bytes of the tables (offsets, slots and code copies), beside the codes.
    public var tableBytes: Int { storage.reduce(0) { $0 + 4 * ($1.offsets.count + count) + 8 * count * words } }

    /// Calls `body` with views of the codes and tables.
    private func withViews<R>(_ body: (SlotCodes, [MultiIndexTable]) throws -> R) rethrows -> R {
        try codes.withUnsafeBufferPointer { all in
            let slots = SlotCodes(blocks: [CodeBlock(words: all.baseAddress, count: count, firstID: 0)], codesPerBlock: max(1, count), words: words)
            let views = storage.map {
                MultiIndexTable(offsets: UnsafePointer($0.offsets.baseAddress!), ids: UnsafePointer($0.ids.baseAddress!),
                                codes: UnsafePointer($0.codes.baseAddress!), idCount: count)
            }
            return try body(slots, views)
        }
    }

    /// The k nearest codes to `query`, ascending by (distance, id): exactly the scan's answer.
    /// - Parameter budget: the share of a scan's cost after which the search scans instead.
    public func nearest(to query: BinaryCode, k: Int, budget: Double = 0.5) throws -> (neighbors: [Neighbor], plan: MultiIndexPlan) {
        guard k >= 1 else { throw CodeError.invalidK(k) }
        guard query.bits == bits else { throw CodeError.widthMismatch(expected: bits, actual: query.bits) }
        let (found, plan) = withViews { slots, views in
            query.words.withUnsafeBufferPointer { q in
                MultiIndexSearch.nearest(to: q.baseAddress!, k: k, layout: layout, tables: views, codes: slots,
                                         pending: UnsafeBufferPointer(start: nil, count: 0), budget: budget)
            }
        }
        if let found { return (found, plan) }
        return (try scan(query, k: min(k, count)), plan)
    }

    /// Every code within `radius` of `query`, ascending by (distance, id).
    public func within(radius: Int, of query: BinaryCode, budget: Double = 0.5) throws -> (neighbors: [Neighbor], plan: MultiIndexPlan) {
        guard radius >= 0 && radius <= bits else { throw CodeError.invalidRadius(radius, bits: bits) }
        guard query.bits == bits else { throw CodeError.widthMismatch(expected: bits, actual: query.bits) }
        let (found, plan) = withViews { slots, views in
            query.words.withUnsafeBufferPointer { q in
                MultiIndexSearch.within(radius: radius, of: q.baseAddress!, layout: layout, tables: views, codes: slots,
                                        pending: UnsafeBufferPointer(start: nil, count: 0), budget: budget)
            }
        }
        if let found { return (found, plan) }
        let scanned = try codes.withUnsafeBufferPointer { all in
            try HammingSearch.within(radius: radius, of: query, blocks: [CodeBlock(words: all.baseAddress, count: count, firstID: 0)], bits: bits)
        }
        return (scanned, plan)
    }

    func scan(_ query: BinaryCode, k: Int) throws -> [Neighbor] {
        if k == 0 { return [] }
        let queries = try CodeMatrix(bits: bits, words: query.words)
        var options = SearchOptions(threads: 1)
        options.minPairsForThreads = .max
        return try codes.withUnsafeBufferPointer { all in
            try HammingSearch.nearest(queries: queries, blocks: [CodeBlock(words: all.baseAddress, count: count, firstID: 0)],
                                      bits: bits, k: k, options: options)[0]
        }
    }
}

extension HammingSearch {
    /// The rows of `matrix` within distance `limit` of `query`, ascending by row, through the
    /// filter kernel the multi-index search runs on each bucket (`tq_filter_within`).
    public static func filter(_ matrix: CodeMatrix, within limit: Int, of query: BinaryCode, kernel: KernelLevel = .best) throws -> [Neighbor] {
        guard query.bits == matrix.bits else { throw CodeError.widthMismatch(expected: matrix.bits, actual: query.bits) }
        guard matrix.count > 0 else { return [] }
        var index = [UInt32](repeating: 0, count: matrix.count), dist = [UInt32](repeating: 0, count: matrix.count)
        let found = matrix.storage.withUnsafeBufferPointer { codes in
            query.words.withUnsafeBufferPointer { q in
                Int(tq_filter_within(kernel.cLevel, codes.baseAddress!, Int64(matrix.count), Int64(matrix.wordsPerCode), q.baseAddress!,
                                     UInt32(clamping: max(0, limit)), &index, &dist))
            }
        }
        return (0..<found).map { Neighbor(id: Int(index[$0]), distance: Int(dist[$0])) }
    }
}
