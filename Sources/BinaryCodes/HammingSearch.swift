import CHammingKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exact Hamming search over blocks of contiguous codes (a `CodeMatrix`, or the chunks of a
/// memory-mapped store).
///
/// Every search returns results ascending by (distance, id), identical to `HammingReference`.
///
/// How it runs: the kernel for the code width is chosen once per call. Codes are cut into
/// cache blocks (`SearchOptions.blockBytes`); each block is compared with every query of the
/// batch before the next one is read. With enough queries the batch is split across threads
/// by queries (each thread scans all codes for its own queries); with few queries the codes
/// are split and the per-thread top-k lists merged.
public enum HammingSearch {
    /// Largest k served by the running top-k lists; larger k uses a full distance pass and a
    /// counting selection over the small integer distances (see `usesLists`).
    public static let maxListK = 1024

    /// Whether the running top-k lists serve `k` of `total` codes: always up to 256; up to
    /// `maxListK` when their insertions (about k (1 + ln(total / k)) of them, each moving about
    /// k / 2 entries) cost less than the counting path's extra pass (one distance written and
    /// counted per code). Over 1M 256-bit codes, one query with k = 400 took 2.0 ms by the
    /// lists against 3.6 ms by counting (`bench vectors --shortlist 10`, 2026-11-29).
    public static func usesLists(k: Int, total: Int) -> Bool {
        if k <= 256 { return true }
        guard k <= maxListK else { return false }
        let kk = Double(k)
        return kk * kk * (1 + log(Double(total) / kk)) < 8 * Double(total)
    }

    /// The `k` nearest codes to each query.
    /// - Parameters:
    ///   - queries: query codes, of the codes' width.
    ///   - codes: the database (ids are slots).
    ///   - k: neighbours per query, >= 1; fewer are returned when the database is smaller.
    ///   - counted: the words of each code that count (a query that weighs only some bits, as a
    ///     typed query weighs only a text model's query bits); nil: all. Distances are then
    ///     over those words alone.
    /// - Returns: one list per query, ascending by (distance, id).
    /// - Precondition: k >= 1, the widths agree and `counted` lies within the codes' words
    ///   (checked where they entered).
    /// - Complexity: O(queries x codes x words) time; O(queries x k) memory on the list path.
    package static func nearest(queries: CodeMatrix, in codes: SlotCodes, k: Int,
                               options: SearchOptions = SearchOptions(), counted: Range<Int>? = nil) -> [[Neighbor]] {
        precondition(k >= 1 && queries.bits == codes.bits, "k and the width are checked where they enter")
        let part = counted ?? 0 ..< codes.words
        precondition(!part.isEmpty && part.lowerBound >= 0 && part.upperBound <= codes.words, "the counted words are checked where they enter")
        let total = codes.count
        let nq = queries.count
        if nq == 0 { return [] }
        if total == 0 { return Array(repeating: [], count: nq) }
        let plan = Plan(codes: codes, options: options, counted: part)
        let kept = min(k, total)
        // The queries' counted words, contiguous (the kernels take queries of the counted width).
        let words = part.count == codes.words ? queries.storage
            : (0..<nq).flatMap { q in queries.storage[(q * codes.words + part.lowerBound) ..< (q * codes.words + part.upperBound)] }
        return words.withUnsafeBufferPointer { qbuf in
            if !usesLists(k: kept, total: total) {
                return plan.countingNearest(queries: qbuf.baseAddress!, nq: nq, k: kept)
            }
            return plan.listNearest(queries: qbuf.baseAddress!, nq: nq, k: kept)
        }
    }

    /// The `k` nearest rows of `matrix` to each query, ascending by (distance, row).
    /// - Throws: `CodeError.invalidK`, `CodeError.widthMismatch`.
    public static func nearest(queries: CodeMatrix, in matrix: CodeMatrix, k: Int,
                               options: SearchOptions = SearchOptions()) throws -> [[Neighbor]] {
        try check(k: k)
        try check(queries.bits, against: matrix.bits)
        return matrix.withSlotCodes { nearest(queries: queries, in: $0, k: k, options: options) }
    }

    /// Every code within Hamming distance `radius` (inclusive) of `query`, ascending by
    /// (distance, id).
    /// - Precondition: 0 <= radius <= bits and the widths agree (checked where they entered).
    package static func within(radius: Int, of query: BinaryCode, in codes: SlotCodes,
                              options: SearchOptions = SearchOptions()) -> [Neighbor] {
        precondition(query.bits == codes.bits && radius >= 0 && radius <= codes.bits, "the radius and width are checked where they enter")
        if codes.count == 0 { return [] }
        let plan = Plan(codes: codes, options: options)
        return query.words.withUnsafeBufferPointer { q in
            plan.radius(query: q.baseAddress!, radius: radius)
        }
    }

    /// Every row of `matrix` within `radius` of `query`.
    /// - Throws: `CodeError.invalidRadius`, `CodeError.widthMismatch`.
    public static func within(radius: Int, of query: BinaryCode, in matrix: CodeMatrix,
                              options: SearchOptions = SearchOptions()) throws -> [Neighbor] {
        try check(query.bits, against: matrix.bits)
        try check(radius: radius, bits: matrix.bits)
        return matrix.withSlotCodes { within(radius: radius, of: query, in: $0, options: options) }
    }

    // The checks of what enters a search, in one place: the public entry points here, in
    // `MultiIndex` and in `CodeIndex` call them; everything below them assumes them.

    /// - Throws: `CodeError.invalidK` unless k >= 1.
    package static func check(k: Int) throws {
        guard k >= 1 else { throw CodeError.invalidK(k) }
    }

    /// - Throws: `CodeError.invalidRadius` unless 0 <= radius <= bits.
    package static func check(radius: Int, bits: Int) throws {
        guard radius >= 0 && radius <= bits else { throw CodeError.invalidRadius(radius, bits: bits) }
    }

    /// - Throws: `CodeError.widthMismatch` unless a query of `bits` matches codes of `expected`.
    package static func check(_ bits: Int, against expected: Int) throws {
        guard bits == expected else { throw CodeError.widthMismatch(expected: expected, actual: bits) }
    }
}

/// One search's fixed choices: the kernel, the cache blocks, the thread count, and the words
/// of each code that count.
struct Plan {
    /// Words per stored code (the stride between codes).
    let words: Int
    /// The words of each code compared with the queries (which hold just these): all of them
    /// but for a query that weighs only part of the code (`HammingSearch.nearest(counted:)`).
    let counted: Range<Int>
    /// Bits compared: the largest possible distance.
    let bits: Int
    let level: tq_level_t
    /// The database cut into cache-sized pieces, in id order.
    let pieces: [CodeBlock]
    let total: Int
    let options: SearchOptions

    init(codes: SlotCodes, options: SearchOptions, counted: Range<Int>? = nil) {
        self.words = codes.words
        self.counted = counted ?? 0 ..< codes.words
        self.bits = self.counted.count == codes.words ? codes.bits : self.counted.count * 64
        self.level = options.kernel.cLevel
        self.total = codes.count
        self.options = options
        let perPiece = max(1, options.blockBytes / (8 * words))
        var pieces: [CodeBlock] = []
        for block in codes.blocks where block.count > 0 {
            var start = 0
            while start < block.count {
                let n = min(perPiece, block.count - start)
                pieces.append(CodeBlock(words: block.words! + start * words, count: n, firstID: block.firstID + start))
                start += n
            }
        }
        self.pieces = pieces
    }

    /// Threads worth waking for `pairs` (query, code) comparisons.
    func threadCount(pairs: Int, parallelUnits: Int) -> Int {
        guard pairs >= options.minPairsForThreads else { return 1 }
        return max(1, min(options.threads, parallelUnits))
    }

    /// Pieces restricted to the global code range `range` (positions, not ids).
    func pieces(in range: Range<Int>) -> [CodeBlock] {
        var out: [CodeBlock] = []
        var position = 0
        for piece in pieces {
            let lo = max(range.lowerBound, position), hi = min(range.upperBound, position + piece.count)
            if lo < hi {
                let offset = lo - position
                out.append(CodeBlock(words: piece.words! + offset * words, count: hi - lo, firstID: piece.firstID + offset))
            }
            position += piece.count
            if position >= range.upperBound { break }
        }
        return out
    }

    // MARK: k-NN with running top-k lists

    /// One kernel call: `nq` queries (of the counted width) against the codes of `piece`.
    @inline(__always)
    func scan(_ piece: CodeBlock, queries: UnsafePointer<UInt64>, nq: Int, lists: UnsafeMutablePointer<tq_topk_t>) {
        if counted.count == words {
            tq_knn_scan(level, piece.words, Int64(piece.count), Int64(piece.firstID), Int64(words), queries, Int64(nq), lists)
        } else {
            tq_knn_scan_part(level, piece.words, Int64(piece.count), Int64(piece.firstID), Int64(words),
                             Int64(counted.lowerBound), Int64(counted.count), queries, Int64(nq), lists)
        }
    }

    /// The distances from one query (of the counted width) to the codes of `piece`.
    @inline(__always)
    func distances(_ piece: CodeBlock, query: UnsafePointer<UInt64>, into out: UnsafeMutablePointer<UInt32>) {
        if counted.count == words {
            tq_distances(level, piece.words, Int64(piece.count), Int64(words), query, out)
        } else {
            tq_distances_part(level, piece.words, Int64(piece.count), Int64(words), Int64(counted.lowerBound), Int64(counted.count), query, out)
        }
    }

    func listNearest(queries: UnsafePointer<UInt64>, nq: Int, k: Int) -> [[Neighbor]] {
        let threads = threadCount(pairs: nq * total, parallelUnits: max(nq / 4, total / 4096))
        if threads == 1 || nq >= 4 * threads {
            // Split by queries, in groups of four (the AVX2 kernel's lane count).
            let groups = (nq + 3) / 4
            let lists = TopKLists(queries: nq, k: k)
            parallelFor(iterations: threads) { t in
                let q0 = min(nq, groups * t / threads * 4), q1 = min(nq, groups * (t + 1) / threads * 4)
                guard q0 < q1 else { return }
                for piece in pieces { scan(piece, queries: queries + q0 * counted.count, nq: q1 - q0, lists: lists.lists + q0) }
            }
            return (0..<nq).map { lists.neighbors(of: $0) }
        }
        // Few queries: split the codes, merge the lists.
        let perThread = (0..<threads).map { _ in TopKLists(queries: nq, k: k) }
        parallelFor(iterations: threads) { t in
            let range = (total * t / threads) ..< (total * (t + 1) / threads)
            for piece in pieces(in: range) { scan(piece, queries: queries, nq: nq, lists: perThread[t].lists) }
        }
        return (0..<nq).map { q in
            Array(perThread.flatMap { $0.neighbors(of: q) }.sorted().prefix(k))
        }
    }

    // MARK: k-NN by counting (large k)

    /// Distances of all codes to one query, then a counting selection: a histogram over the
    /// distances 0...bits gives the cut-off distance, and one pass in id order collects the
    /// winners already sorted by (distance, id).
    ///
    /// Threads: with at least as many queries as threads, each thread takes whole queries.
    /// With fewer (one typed query over a large index), each query's codes are split: every
    /// thread fills and counts the distances of its share, and then collects its share's
    /// winners into their places in the result, which is the one-thread result.
    ///
    /// A full pass streams every code from memory, so its work is counted in pairs of 256-bit
    /// codes (the unit of `minPairsForThreads`): a pass over 1M codes of 1,024 bits counts 4M.
    /// On an Intel Xeon host of this kind, one thread took 20.0 ms to count 12 of 16 words of
    /// 1M codes and two threads 10.4 ms (median of 41; at 250k codes 4.9 and 2.3 ms).
    func countingNearest(queries: UnsafePointer<UInt64>, nq: Int, k: Int) -> [[Neighbor]] {
        var results = [[Neighbor]](repeating: [], count: nq)
        let widthPairs = nq * total * max(1, words / 4)
        let threads = threadCount(pairs: widthPairs, parallelUnits: max(nq, pieces.count))
        if nq < threads {
            // Few queries: each query's codes split into one share per thread.
            let shares = (0..<threads).map { t in (start: total * t / threads, pieces: pieces(in: (total * t / threads) ..< (total * (t + 1) / threads))) }
            let distances = UnsafeMutablePointer<UInt32>.allocate(capacity: total)
            defer { distances.deallocate() }
            for q in 0..<nq { results[q] = nearest(query: queries + q * counted.count, k: k, shares: shares, distances: distances) }
            return results
        }
        results.withUnsafeMutableBufferPointer { out in

            parallelFor(iterations: threads) { t in
                let distances = UnsafeMutablePointer<UInt32>.allocate(capacity: total)
                defer { distances.deallocate() }
                for q in (nq * t / threads) ..< (nq * (t + 1) / threads) {
                    out[q] = nearest(query: queries + q * counted.count, k: k, shares: [(0, pieces)], distances: distances)
                }
            }
        }
        return results
    }

    /// One query's k nearest over `shares` (consecutive runs of the codes in id order, each with
    /// its first position), one thread per share: each fills and counts the distances of its
    /// share, then collects its winners into their places. `distances` holds one per code.
    func nearest(query: UnsafePointer<UInt64>, k: Int, shares: [(start: Int, pieces: [CodeBlock])],
                 distances: UnsafeMutablePointer<UInt32>) -> [Neighbor] {
        var histograms = [[Int]](repeating: [Int](repeating: 0, count: bits + 1), count: shares.count)
        histograms.withUnsafeMutableBufferPointer { h in

            parallelFor(iterations: shares.count) { t in
                h[t].withUnsafeMutableBufferPointer { fillDistances(query: query, in: shares[t].pieces, into: distances + shares[t].start, histogram: $0.baseAddress) }
            }
        }
        let plan = SelectionShare(histograms: histograms, k: k)
        var result = [Neighbor](repeating: Neighbor(id: 0, distance: 0), count: k)
        result.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            parallelFor(iterations: shares.count) { t in
                collect(share: t, of: plan, from: shares[t].pieces, distances: distances + shares[t].start, into: base)
            }
        }
        return result
    }

    /// Writes the distance of every code (in position order) to `query` into `distances`.
    func fillDistances(query: UnsafePointer<UInt64>, into distances: UnsafeMutablePointer<UInt32>) {
        fillDistances(query: query, in: pieces, into: distances, histogram: nil)
    }

    /// Writes the distance of every code of `pieces` (in order) to `query` into `distances`,
    /// and counts each distance in `histogram` (0...bits) when given (piece by piece, while the
    /// distances are in L1).
    func fillDistances(query: UnsafePointer<UInt64>, in pieces: [CodeBlock], into distances: UnsafeMutablePointer<UInt32>,
                       histogram: UnsafeMutablePointer<Int>?) {
        var position = 0
        for piece in pieces {
            let out = distances + position
            self.distances(piece, query: query, into: out)
            if let histogram { for i in 0..<piece.count { histogram[Int(out[i])] += 1 } }
            position += piece.count
        }
    }

    /// Collects the winners of share `share` (its `pieces` and their `distances`, in id order)
    /// into their places in `result` (k entries, ascending by (distance, id)).
    func collect(share: Int, of plan: SelectionShare, from pieces: [CodeBlock], distances: UnsafePointer<UInt32>,
                 into result: UnsafeMutablePointer<Neighbor>) {
        var next = plan.starts[share]
        var quota = plan.quotas[share]
        let cutoff = plan.cutoff
        var position = 0
        next.withUnsafeMutableBufferPointer { next in
            for piece in pieces {
                for i in 0..<piece.count {
                    let d = Int(distances[position + i])
                    if d < cutoff || (d == cutoff && quota > 0) {
                        if d == cutoff { quota -= 1 }
                        result[next[d]] = Neighbor(id: piece.firstID + i, distance: d)
                        next[d] += 1
                    }
                }
                position += piece.count
            }
        }
    }

    // MARK: radius

    func radius(query: UnsafePointer<UInt64>, radius: Int) -> [Neighbor] {
        let threads = threadCount(pairs: total, parallelUnits: total / 4096)
        var parts = [[Neighbor]](repeating: [], count: threads)
        parts.withUnsafeMutableBufferPointer { out in

            parallelFor(iterations: threads) { t in
                let mine = pieces(in: (total * t / threads) ..< (total * (t + 1) / threads))
                let longest = mine.map(\.count).max() ?? 0
                let distances = UnsafeMutablePointer<UInt32>.allocate(capacity: max(1, longest))
                defer { distances.deallocate() }
                var hits: [Neighbor] = []
                for piece in mine {
                    self.distances(piece, query: query, into: distances)
                    for i in 0..<piece.count where Int(distances[i]) <= radius {
                        hits.append(Neighbor(id: piece.firstID + i, distance: Int(distances[i])))
                    }
                }
                out[t] = hits
            }
        }
        // Each part is in id order; a stable sort by distance keeps ids ascending within ties.
        let merged = parts.flatMap { $0 }
        var buckets = [[Neighbor]](repeating: [], count: radius + 1)
        for hit in merged { buckets[hit.distance].append(hit) }
        return buckets.flatMap { $0 }
    }
}

/// Per-query top-k lists for the C kernels: `queries` lists of capacity `k`, in one
/// allocation each for distances and ids. Owned by this object; freed in deinit.
final class TopKLists {
    let lists: UnsafeMutablePointer<tq_topk_t>
    private let distances: UnsafeMutablePointer<UInt32>
    private let ids: UnsafeMutablePointer<Int64>
    private let queries: Int

    init(queries: Int, k: Int) {
        self.queries = queries
        lists = .allocate(capacity: max(1, queries))
        distances = .allocate(capacity: max(1, queries * k))
        ids = .allocate(capacity: max(1, queries * k))
        for q in 0..<queries {
            lists[q] = tq_topk_t(distances: distances + q * k, ids: ids + q * k, k: Int64(k), count: 0)
        }
    }

    deinit {
        lists.deallocate()
        distances.deallocate()
        ids.deallocate()
    }

    func neighbors(of q: Int) -> [Neighbor] {
        let list = lists[q]
        return (0..<Int(list.count)).map { Neighbor(id: Int(list.ids[$0]), distance: Int(list.distances[$0])) }
    }
}

extension HammingSearch {
    /// The distance from `query` to every row of `matrix`, in row order.
    public static func distances(from query: BinaryCode, to matrix: CodeMatrix,
                                 options: SearchOptions = SearchOptions()) throws -> [UInt32] {
        try check(query.bits, against: matrix.bits)
        if matrix.isEmpty { return [] }
        return matrix.withSlotCodes { codes in
            let plan = Plan(codes: codes, options: options)
            var out = [UInt32](repeating: 0, count: matrix.count)
            query.words.withUnsafeBufferPointer { q in
                out.withUnsafeMutableBufferPointer { plan.fillDistances(query: q.baseAddress!, into: $0.baseAddress!) }
            }
            return out
        }
    }
}

/// Where each share of a split counting selection puts its winners. The shares are consecutive
/// runs of codes in id order, counted apart (`histograms`, one per share, over 0...bits).
struct SelectionShare {
    /// The largest distance kept: the smallest c with at least k codes at distance <= c.
    let cutoff: Int
    /// Per share, the result position of its first code at each distance 0...cutoff: after
    /// every code of a smaller distance and every code of that distance in earlier shares.
    let starts: [[Int]]
    /// Per share, how many of its codes at exactly `cutoff` are kept (the lowest ids overall).
    let quotas: [Int]

    /// - Precondition: k >= 1 and at most the number of codes counted.
    init(histograms: [[Int]], k: Int) {
        let width = histograms[0].count
        var total = [Int](repeating: 0, count: width)
        for h in histograms { for d in 0..<width { total[d] += h[d] } }
        var below = 0, cutoff = 0
        while below + total[cutoff] < k { below += total[cutoff]; cutoff += 1 }
        var atCutoff = k - below
        var starts: [[Int]] = []
        var quotas: [Int] = []
        var runStart = [Int](repeating: 0, count: cutoff + 1)
        for d in stride(from: 1, through: cutoff, by: 1) { runStart[d] = runStart[d - 1] + total[d - 1] }
        for h in histograms {
            starts.append(runStart)
            for d in 0...cutoff { runStart[d] += h[d] }
            let taken = min(h[cutoff], atCutoff)
            quotas.append(taken)
            atCutoff -= taken
        }
        self.cutoff = cutoff
        self.starts = starts
        self.quotas = quotas
    }
}
