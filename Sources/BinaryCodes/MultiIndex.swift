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

/// Exact Hamming search by multi-index hashing (Norouzi, Punjani and Fleet, "Fast search in
/// Hamming space with multi-index hashing", CVPR 2012) over tables and codes given as views.
///
/// A query probes the tables shell by shell (the buckets whose substring value lies at distance
/// exactly r from its own) and computes the full distance of each slot it meets. By the
/// general pigeonhole principle a code not met once table t is done through radius r_t lies
/// at distance at least sum(r_t + 1), so once the k-th best distance found is below that the
/// answer is exact; the k-NN search lets the table whose next shell looks cheapest go first.
/// Ties are ordered by slot, as the scan orders them, so results are identical to the scan's.
///
/// Each table entry carries a copy of its code, so a probe computes the distances of a
/// bucket from one sequential run of memory instead of one random read per candidate.
///
/// The tables come in levels over consecutive runs of slots from slot 0 (`MultiIndexLevel`),
/// each searched in turn with its own stopping rule; the k-th distance found so far carries
/// over, so the later (smaller) levels stop early. Codes past the last level (appended since)
/// are compared directly, in one sequential pass, before any level.
///
/// The tables may be older than the codes: `pending` (ascending) lists every slot inside the
/// levels whose code is not in the tables as it is now (replaced, or moved by a removal, since
/// its level was built). Those are compared directly first, from the current codes; a table
/// entry counts only when its slot is below `codes.count` and not pending (checked only for
/// entries that would enter the answer). So the answer is exact as long as every slot outside
/// `pending` still has the code its level was built from.
///
/// There is no "seen" set: a slot can be met in at most m tables (once per table, at the
/// radius equal to its substring distance there), and recomputing a distance costs less than
/// clearing a bitset over the whole index for every query.
public enum MultiIndexSearch {
    /// Work is counted in units of one code word of the streaming scan (about 0.56 ns here).
    /// A probe lands on a random bucket of tables far larger than the cache, its lines
    /// prefetched a few probes ahead: 40 units (about 22 ns). A candidate is read in sequence
    /// with its bucket: 1.8 units plus 0.9 per word. A pending code is a random read: 16 units
    /// plus its words. Fitted to exact 10-NN over 1.38M real 64- and 128-bit codes with the
    /// probe kernel and m = 4, 5, 8 and 10 on this machine (2026-11-30, docs/BENCHMARKS.md).
    static let probeCost = 40.0
    static let candidateCost = 1.8
    static let candidateWordCost = 0.9
    static let pendingCost = 16.0

    /// The cost of one candidate of `words` words, in scan units.
    static func candidateUnits(words: Int) -> Double { candidateCost + candidateWordCost * Double(words) }

    struct Work {
        let words: Int
        let limit: Double
        var candidates = 0
        var probes = 0
        var pending = 0
        /// The work done so far, in scan units.
        var spent: Double {
            Double(candidates) * candidateUnits + MultiIndexSearch.probeCost * Double(probes) + Double(pending) * (MultiIndexSearch.pendingCost + Double(words))
        }
        var exhausted: Bool { spent > limit }
        var candidateUnits: Double { MultiIndexSearch.candidateUnits(words: words) }
        /// The units left before the budget runs out (at least 1), for the kernel's own check.
        var remainingUnits: Int64 {
            let left = (limit - spent).rounded(.up)
            return left >= Double(Int64.max) ? .max : Int64(max(1, left))
        }

        init(codes: SlotCodes, budget: Double) {
            words = codes.words
            limit = budget * Double(codes.count * codes.words)
        }

        func plan(_ method: MultiIndexPlan.Method, radius: Int) -> MultiIndexPlan {
            MultiIndexPlan(method: method, candidates: candidates, probes: probes, substringRadius: radius)
        }
    }

    /// Scratch for the filter kernel: entry indexes in the first half, distances in the second.
    struct Scratch {
        let index: UnsafeMutablePointer<UInt32>
        let distance: UnsafeMutablePointer<UInt32>
        let capacity = 512
        /// What `tq_probe_shell` may fill: it stores eight lanes at a time past its results.
        var usable: Int { capacity - 8 }

        init() {
            index = .allocate(capacity: 2 * capacity)
            distance = index + capacity
        }

        func free() { index.deallocate() }
    }

    /// Calls `visit(i, distance)` for each of the `n` codes at `run` within `limit` of `query`
    /// (i counts from 0), by the popcount kernel (Swift's own popcount is a bit-twiddling
    /// sequence on the baseline x86-64 target). `visit` returns the new limit; the limit only
    /// tightens, so `visit` sees a superset and checks again.
    @inline(__always)
    static func filter(_ run: UnsafePointer<UInt64>, count n: Int, words: Int, query: UnsafePointer<UInt64>, level: tq_level_t,
                       scratch: Scratch, limit: inout Int, _ visit: (Int, Int) -> Int) {
        var start = 0
        while start < n {
            let part = min(scratch.capacity, n - start)
            let found = Int(tq_filter_within(level, run + start * words, Int64(part), Int64(words), query,
                                             UInt32(clamping: limit), scratch.index, scratch.distance))
            for i in 0..<found where Int(scratch.distance[i]) <= limit {
                limit = visit(start + Int(scratch.index[i]), Int(scratch.distance[i]))
            }
            start += part
        }
    }

    /// Visits every slot of `pending` (below `codes.count`) with its current code, then every
    /// slot from `unindexed` on (in one sequential pass, within the limit).
    static func visitDirect(_ pending: UnsafeBufferPointer<UInt32>, unindexed: Int, query: UnsafePointer<UInt64>, codes: SlotCodes,
                            level: tq_level_t, scratch: Scratch, limit: inout Int, work: inout Work, _ visit: (Int, Int) -> Int) {
        for raw in pending {
            let slot = Int(raw)
            guard slot < codes.count else { continue }
            work.pending += 1
            let d = distance(codes.pointer(slot), query, codes.words)
            if d <= limit { limit = visit(slot, d) }
        }
        guard unindexed < codes.count else { return }
        work.candidates += codes.count - unindexed
        codes.forEachRun(unindexed ..< codes.count) { first, run, n in
            filter(run, count: n, words: codes.words, query: query, level: level, scratch: scratch, limit: &limit) { i, d in
                visit(first + i, d)
            }
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

    /// Probes every bucket of table `t` of `level` at substring distance exactly `radius` and
    /// calls `visit(distance, slot)` for each entry at distance <= `limit`; `visit` checks
    /// `isCurrent` before it keeps one, and returns the new limit. Returns false when the
    /// budget ran out (the caller then scans).
    ///
    /// The probing and filtering run in the C kernel (`tq_probe_shell`), which keeps the
    /// coming buckets' offsets and codes on their way from memory while it filters one: buckets
    /// lie at random places in tables far larger than the cache.
    @inline(__always)
    static func probe(radius: Int, table t: Int, of level: MultiIndexLevel, query: UnsafePointer<UInt64>, words: Int,
                      kernel: tq_level_t, scratch: Scratch, limit: inout Int, work: inout Work, _ visit: (Int, Int) -> Int) -> Bool {
        let table = level.tables[t]
        return walkShell(radius: radius, table: t, of: level, query: query, words: words, kernel: kernel,
                         index: scratch.index, distance: scratch.distance, capacity: scratch.usable,
                         probeUnits: Int64(probeCost), candidateUnits: Int64(work.candidateUnits.rounded(.up)),
                         limit: limit, maxUnits: work.remainingUnits) { found, probes, candidates in
            work.probes += probes
            work.candidates += candidates
            for i in 0..<found where Int(scratch.distance[i]) <= limit {
                limit = visit(Int(scratch.distance[i]), Int(table.ids[Int(scratch.index[i])]))
            }
            return work.exhausted ? nil : (limit, work.remainingUnits)
        }
    }

    /// Runs `tq_probe_shell` over the shell at `radius` of table `t` until the shell is done:
    /// after each call `take(found, probes, candidates)` consumes the results in `index` and
    /// `distance` and returns the limit and work units for the next call, or nil to stop (then
    /// this returns false).
    @inline(__always)
    static func walkShell(radius: Int, table t: Int, of level: MultiIndexLevel, query: UnsafePointer<UInt64>, words: Int,
                          kernel: tq_level_t, index: UnsafeMutablePointer<UInt32>, distance: UnsafeMutablePointer<UInt32>,
                          capacity: Int, probeUnits: Int64, candidateUnits: Int64, limit: Int, maxUnits: Int64,
                          _ take: (_ found: Int, _ probes: Int, _ candidates: Int) -> (limit: Int, maxUnits: Int64)?) -> Bool {
        let table = level.tables[t]
        let range = level.layout.substrings[t]
        let own = MultiIndexLayout.substring(query, range)
        var cursor = tq_shell_cursor_t(mask: radius == 0 ? 0 : (1 << UInt64(radius)) - 1, entry: -1, probes: 0, candidates: 0)
        var (limit, maxUnits) = (limit, maxUnits)
        while cursor.mask < 1 << UInt64(range.length) {
            let found = Int(tq_probe_shell(kernel, table.offsets, Int64(table.idCount), table.codes, Int64(words), own,
                                           Int32(range.length), query, UInt32(clamping: limit), probeUnits, candidateUnits,
                                           maxUnits, &cursor, index, distance, Int64(capacity)))
            guard let next = take(found, Int(cursor.probes), Int(cursor.candidates)) else { return false }
            (limit, maxUnits) = next
        }
        return true
    }

    /// Every entry of table `t` of `level` whose bucket lies at substring distance exactly
    /// `radius` from the query's and whose code lies within `limit` of `query`, as (slot,
    /// distance) in the kernel's order (buckets by increasing mask, entries in bucket order),
    /// taking at most `capacity` results per kernel call (so that small capacities make the
    /// kernel stop and go on inside buckets); and the buckets and entries it looked at.
    public static func shell(radius: Int, table t: Int, of level: MultiIndexLevel, query: UnsafePointer<UInt64>, words: Int,
                             limit: Int, kernel: KernelLevel, capacity: Int) -> (found: [Neighbor], probes: Int, candidates: Int) {
        precondition(capacity >= 1 && radius >= 0 && radius <= level.layout.substrings[t].length)
        let table = level.tables[t]
        let index = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity + 8)
        let distance = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity + 8)
        defer { index.deallocate(); distance.deallocate() }
        var result: [Neighbor] = [], probes = 0, candidates = 0
        _ = walkShell(radius: radius, table: t, of: level, query: query, words: words, kernel: kernel.cLevel,
                      index: index, distance: distance, capacity: capacity, probeUnits: 1, candidateUnits: 1,
                      limit: limit, maxUnits: .max) { found, p, c in
            precondition(found <= capacity)
            probes += p
            candidates += c
            for i in 0..<found { result.append(Neighbor(id: Int(table.ids[Int(index[i])]), distance: Int(distance[i]))) }
            return (limit, .max)
        }
        return (result, probes, candidates)
    }

    /// The estimated work (scan units) of probing the shell at `radius` of a table of
    /// `length`-bit substrings whose shell at `radius - 1` held `lastShell` entries: the entries
    /// scaled by the growth in buckets, C(length, radius) / C(length, radius - 1), plus the probes.
    static func shellCost(lastShell: Int, radius r: Int, length: Int, words: Int) -> Double {
        guard r <= length else { return .infinity }
        var buckets = 1.0
        for i in 0..<r { buckets = buckets * Double(length - i) / Double(i + 1) }
        let growth = Double(length - r + 1) / Double(r)
        return Double(lastShell) * growth * candidateUnits(words: words) + probeCost * buckets
    }

    /// Checks that `levels` cover consecutive slots from 0.
    static func checkLevels(_ levels: [MultiIndexLevel]) -> Int {
        var end = 0
        for level in levels {
            precondition(level.slots.lowerBound == end, "levels must cover consecutive slots from 0")
            end = level.slots.upperBound
        }
        return end
    }

    /// The k nearest slots to `query`, ascending by (distance, slot), or nil (with the plan of
    /// the work done) when the budget ran out first and the caller should scan.
    /// - Parameters:
    ///   - k: at least 1.
    ///   - levels: over consecutive slots from 0; slots past the last are compared directly.
    ///   - budget: the share of a single-threaded scan's cost after which the search gives up.
    public static func nearest(to query: UnsafePointer<UInt64>, k: Int, levels: [MultiIndexLevel],
                               codes: SlotCodes, pending: UnsafeBufferPointer<UInt32>, budget: Double,
                               kernel: KernelLevel = .best) -> (neighbors: [Neighbor]?, plan: MultiIndexPlan) {
        precondition(k >= 1)
        let unindexed = checkLevels(levels)
        let scratch = Scratch()
        defer { scratch.free() }
        var work = Work(codes: codes, budget: budget)
        let kept = min(k, codes.count)
        if kept == 0 { return ([], work.plan(.multiIndex, radius: 0)) }
        var best: [Neighbor] = []
        best.reserveCapacity(kept + 1)
        /// The distance a slot must not exceed to enter the answer.
        func bound() -> Int { best.count == kept ? best[kept - 1].distance : Int.max }
        func offer(_ slot: Int, _ d: Int) -> Int {
            if best.count == kept, let last = best.last, !(d < last.distance || (d == last.distance && slot < last.id)) { return bound() }
            var pos = best.count
            while pos > 0 && (best[pos - 1].distance > d || (best[pos - 1].distance == d && best[pos - 1].id >= slot)) {
                if best[pos - 1].id == slot { return bound() } // met before, in another table
                pos -= 1
            }
            best.insert(Neighbor(id: slot, distance: d), at: pos)
            if best.count > kept { best.removeLast() }
            return bound()
        }
        var limit = Int.max
        visitDirect(pending, unindexed: unindexed, query: query, codes: codes, level: kernel.cLevel, scratch: scratch,
                    limit: &limit, work: &work, offer)
        let live = codes.count
        let fromTables = { (d: Int, slot: Int) -> Int in
            isCurrent(slot, live: live, pending: pending) ? offer(slot, d) : bound()
        }
        var radius = 0
        for level in levels where level.slots.lowerBound < live {
            // Each table is probed shell by shell; once table t is done through radius r_t, a code
            // not met has a substring distance above r_t in every table, so its distance is at
            // least sum(r_t + 1) (the general pigeonhole principle): the search stops once the k-th
            // best distance is below that. Which table goes one shell further is chosen by the
            // estimated cost of its next shell (its last shell's candidates times the growth in
            // buckets, plus the probes), so dense neighbourhoods of the query are entered last.
            let lengths = level.layout.substrings.map(\.length)
            var done = [Int](repeating: -1, count: lengths.count)
            var met = [Int](repeating: 0, count: lengths.count)
            var lowerBound = 0
            while !(best.count == kept && best[kept - 1].distance < lowerBound) {
                var choice = -1, cheapest = Double.infinity
                for t in lengths.indices {
                    let r = done[t] + 1
                    let cost = r == 0 ? -1 : Self.shellCost(lastShell: met[t], radius: r, length: lengths[t], words: codes.words)
                    if cost < cheapest { (choice, cheapest) = (t, cost) }
                }
                let before = work.candidates
                guard probe(radius: done[choice] + 1, table: choice, of: level, query: query, words: codes.words, kernel: kernel.cLevel,
                            scratch: scratch, limit: &limit, work: &work, fromTables) else {
                    return (nil, work.plan(.scan, radius: max(radius, done[choice] + 1)))
                }
                done[choice] += 1
                met[choice] = work.candidates - before
                lowerBound += 1
                radius = max(radius, done[choice])
                // A table probed through its full length has met every code of the level.
                if done[choice] == lengths[choice] { break }
            }
        }
        return (best, work.plan(.multiIndex, radius: radius))
    }

    /// Every slot within `radius` of `query`, ascending by (distance, slot), or nil when the
    /// budget ran out first.
    public static func within(radius: Int, of query: UnsafePointer<UInt64>, levels: [MultiIndexLevel],
                              codes: SlotCodes, pending: UnsafeBufferPointer<UInt32>, budget: Double,
                              kernel: KernelLevel = .best) -> (neighbors: [Neighbor]?, plan: MultiIndexPlan) {
        precondition(radius >= 0)
        let unindexed = checkLevels(levels)
        let scratch = Scratch()
        defer { scratch.free() }
        var work = Work(codes: codes, budget: budget)
        var found: [Neighbor] = []
        var limit = radius
        visitDirect(pending, unindexed: unindexed, query: query, codes: codes, level: kernel.cLevel, scratch: scratch,
                    limit: &limit, work: &work) { slot, d in
            found.append(Neighbor(id: slot, distance: d))
            return radius
        }
        let live = codes.count
        let fromTables = { (d: Int, slot: Int) -> Int in
            if isCurrent(slot, live: live, pending: pending) { found.append(Neighbor(id: slot, distance: d)) }
            return radius
        }
        var deepest = 0
        for level in levels where level.slots.lowerBound < live {
            // A code within `radius` has some substring within radius / m of the query's; more
            // finely, once tables 0..<t are done at r and the rest at r - 1, every code within
            // m r + t - 1 of the query has been met.
            let m = level.layout.substrings.count
            let top = min(radius / m, level.layout.substrings.map(\.length).max()!)
            search: for r in 0...top {
                for t in 0..<m where r <= level.layout.substrings[t].length {
                    if radius < m * r + t { break search }
                    guard probe(radius: r, table: t, of: level, query: query, words: codes.words, kernel: kernel.cLevel,
                                scratch: scratch, limit: &limit, work: &work, fromTables) else {
                        return (nil, work.plan(.scan, radius: max(deepest, r)))
                    }
                    deepest = max(deepest, r)
                }
            }
        }
        found.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
        var unique: [Neighbor] = []
        unique.reserveCapacity(found.count)
        for n in found where unique.last != n { unique.append(n) }
        return (unique, work.plan(.multiIndex, radius: deepest))
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
    /// Each table's bytes (`MultiIndexLayout.writeTable`), allocated here so that views of
    /// them stay valid for the life of the object.
    private let storage: [UnsafeMutableRawBufferPointer]

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
        let (count, words) = (count, words)
        storage = codes.withUnsafeBufferPointer { all in
            let slots = SlotCodes(blocks: [CodeBlock(words: all.baseAddress, count: count, firstID: 0)], codesPerBlock: max(1, count), words: words)
            return layout.substrings.indices.map { t in
                let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.tableByteCount(t, entries: count, words: words), alignment: 8)
                layout.writeTable(t, codes: slots, slots: 0 ..< count, into: bytes.baseAddress!)
                return bytes
            }
        }
    }

    deinit {
        for table in storage { table.deallocate() }
    }

    /// Bytes of the tables (offsets, slots and code copies), beside the codes.
    public var tableBytes: Int { storage.reduce(0) { $0 + $1.count } }

    /// Calls `body` with views of the codes and tables.
    private func withViews<R>(_ body: (SlotCodes, [MultiIndexLevel]) throws -> R) rethrows -> R {
        try codes.withUnsafeBufferPointer { all in
            let slots = SlotCodes(blocks: [CodeBlock(words: all.baseAddress, count: count, firstID: 0)], codesPerBlock: max(1, count), words: words)
            let tables = storage.indices.map {
                MultiIndexTable(layout: layout, table: $0, entries: count, words: words, bytes: UnsafeRawPointer(storage[$0].baseAddress!))
            }
            return try body(slots, [MultiIndexLevel(layout: layout, slots: 0 ..< count, tables: tables)])
        }
    }

    /// The k nearest codes to `query`, ascending by (distance, id): exactly the scan's answer.
    /// - Parameters:
    ///   - budget: the share of a scan's cost after which the search scans instead.
    ///   - kernel: the build of the probe kernel (all give the same answers).
    public func nearest(to query: BinaryCode, k: Int, budget: Double = 0.5, kernel: KernelLevel = .best) throws -> (neighbors: [Neighbor], plan: MultiIndexPlan) {
        guard k >= 1 else { throw CodeError.invalidK(k) }
        guard query.bits == bits else { throw CodeError.widthMismatch(expected: bits, actual: query.bits) }
        let (found, plan) = withViews { slots, views in
            query.words.withUnsafeBufferPointer { q in
                MultiIndexSearch.nearest(to: q.baseAddress!, k: k, levels: views, codes: slots,
                                         pending: UnsafeBufferPointer(start: nil, count: 0), budget: budget, kernel: kernel)
            }
        }
        if let found { return (found, plan) }
        return (try scan(query, k: min(k, count)), plan)
    }

    /// Every code within `radius` of `query`, ascending by (distance, id).
    public func within(radius: Int, of query: BinaryCode, budget: Double = 0.5, kernel: KernelLevel = .best) throws -> (neighbors: [Neighbor], plan: MultiIndexPlan) {
        guard radius >= 0 && radius <= bits else { throw CodeError.invalidRadius(radius, bits: bits) }
        guard query.bits == bits else { throw CodeError.widthMismatch(expected: bits, actual: query.bits) }
        let (found, plan) = withViews { slots, views in
            query.words.withUnsafeBufferPointer { q in
                MultiIndexSearch.within(radius: radius, of: q.baseAddress!, levels: views, codes: slots,
                                        pending: UnsafeBufferPointer(start: nil, count: 0), budget: budget, kernel: kernel)
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
    package static func filter(_ matrix: CodeMatrix, within limit: Int, of query: BinaryCode, kernel: KernelLevel = .best) throws -> [Neighbor] {
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

/// What the tables did for an index's recent searches, so that the planner stops trying them
/// while they do not pay (unstructured codes, far queries) instead of spending its budget on
/// every query before it scans.
///
/// After `warmUp` attempts, a query tries the tables only when at least a quarter of the last
/// `window` attempts were answered by them; otherwise it goes straight to the scan, except every
/// `retryEvery`-th query, which tries again. A retry that pays starts the history afresh, so the
/// planner comes back as soon as the queries change. Answers never depend on it.
public final class MultiIndexHistory: @unchecked Sendable {
    public static let window = 32
    public static let warmUp = 8
    public static let retryEvery = 16
    private let lock = PthreadMutex()
    /// Bit i: whether the i-th most recent attempt was answered by the tables.
    private var outcomes: UInt64 = 0
    private var attempts = 0
    private var skipped = 0

    public init() {}

    /// Past the warm-up, fewer than a quarter of the last `window` attempts paid (call under
    /// the lock).
    private var failing: Bool {
        let n = min(attempts, Self.window)
        return attempts >= Self.warmUp && 4 * (outcomes & ((1 << UInt64(n)) - 1)).nonzeroBitCount < n
    }

    /// Whether the next query should try the tables.
    public func shouldTry() -> Bool {
        lock.locked {
            guard failing else { return true }
            skipped += 1
            return skipped % Self.retryEvery == 0
        }
    }

    /// Records whether a query that tried the tables was answered by them.
    public func record(paid: Bool) {
        lock.locked {
            if failing && paid {
                // A retry paid: the queries have changed; give the tables a fresh start.
                outcomes = 0
                attempts = 0
                skipped = 0
            }
            outcomes = (outcomes << 1) | (paid ? 1 : 0)
            attempts += 1
        }
    }
}
