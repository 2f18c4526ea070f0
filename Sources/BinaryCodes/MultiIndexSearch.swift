import CHammingKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
