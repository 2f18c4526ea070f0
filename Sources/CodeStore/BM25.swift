import Foundation

/// BM25 of stored term records for one query, read straight from the record bytes (the
/// stored form of `TermCounts`): the query's terms and the record's are both sorted by hash, so
/// one merge (or, for a short query against a long record, binary searches) finds the counts.
struct BM25 {
    /// Query terms ascending by hash, each with qtf x IDF.
    let terms: [(hash: UInt64, weight: Double)]
    let k1: Double, b: Double, averageLength: Double
    /// A 4,096-bit filter of the query's terms (bit = the hash's low 12 bits): a record term
    /// whose bit is clear is not in the query, so a long record is read in one predictable pass.
    private let filter: [UInt64]

    init(terms: [(hash: UInt64, weight: Double)], k1: Double, b: Double, averageLength: Double) {
        self.terms = terms
        self.k1 = k1
        self.b = b
        self.averageLength = averageLength
        var filter = [UInt64](repeating: 0, count: 64)
        for t in terms { filter[Int(t.hash & 0xFFF) >> 6] |= 1 << (t.hash & 63) }
        self.filter = filter
    }

    /// What term `hash` (of weight `weight`) adds to `score` of one record: 0 when the record
    /// lacks it or is malformed. The same arithmetic as `score`, term by term.
    /// `from` is where to start looking (terms asked for in ascending order: the place of the
    /// previous one); it is moved past this one.
    func contribution(of hash: UInt64, weight: Double, in raw: UnsafeRawBufferPointer, from: inout Int32) -> Double {
        guard let record = StoredTerms(raw), record.count > 0 else { return 0 }
        let lo = lowerBound(from: min(Int(from), record.count), to: record.count) { record.hash($0) < hash }
        from = Int32(lo)
        guard lo < record.count && record.hash(lo) == hash else { return 0 }
        return saturated(weight: weight, count: record.termCount(lo), norm: norm(length: record.length))
    }

    /// The length normalisation of a document of `length` terms: k1 (1 - b + b |D| / avgdl).
    @inline(__always) func norm(length: Int) -> Double {
        k1 * (1 - b + b * Double(length) / averageLength)
    }

    /// What one term of weight `weight` (qtf x IDF) found `count` times in a document of norm
    /// `norm` adds to its score: weight x tf (k1 + 1) / (tf + norm). Every path (`score`,
    /// `contribution`, `CountedPostings`) goes through it, so their scores agree to the last bit.
    @inline(__always) func saturated(weight: Double, count: UInt8, norm: Double) -> Double {
        let tf = Double(count)
        return weight * tf * (k1 + 1) / (tf + norm)
    }

    /// The scores of `records` (0 for none), each record fetched a few ahead of its score: the
    /// records lie all over the map, and scoring one otherwise waits on its loads.
    func scores(_ records: [UnsafeRawBufferPointer?]) -> [Double] {
        var out = [Double](repeating: 0, count: records.count)
        for i in records.indices {
            if i + Self.lookahead < records.count, let ahead = records[i + Self.lookahead] { StoredTerms.prefetch(ahead) }
            if let record = records[i] { out[i] = score(record) }
        }
        return out
    }

    /// Records ahead of the one scored that `scores` fetches.
    static let lookahead = 4

    /// The score of one record (0 for a malformed one: `check` reports those).
    func score(_ raw: UnsafeRawBufferPointer) -> Double {
        guard let record = StoredTerms(raw), record.count > 0 else { return 0 }
        let n = record.count
        let norm = norm(length: record.length)
        var total = 0.0
        @inline(__always) func add(_ weight: Double, _ j: Int) {
            total += saturated(weight: weight, count: record.termCount(j), norm: norm)
        }
        var j = 0
        if n < 8 * terms.count {
            // A long query against a record of comparable length (a pasted document): every
            // record term through the filter, and the few that pass looked up among the query's
            // (binary search). Both lists ascend by hash, so the sum runs in the same order as
            // the merge below and the score is the same to the last bit.
            filter.withUnsafeBufferPointer { bits in
                var lo = 0
                for j in 0..<n {
                    let h = record.hash(j)
                    guard bits[Int(h & 0xFFF) >> 6] & (1 << (h & 63)) != 0 else { continue }
                    lo = lowerBound(from: lo, to: terms.count) { terms[$0].hash < h }
                    if lo < terms.count && terms[lo].hash == h { add(terms[lo].weight, j); lo += 1 }
                }
            }
            return total
        }
        // Galloping merge (a few terms against a long record): O(q log(n / q)).
        for (h, w) in terms {
            j = gallop(from: j, to: n) { record.hash($0) < h }
            if j == n { break }
            if record.hash(j) == h { add(w, j) }
        }
        return total
    }
}

/// The first index in `start..<end` at which `isBelow` is false (`end` when none), for an
/// ascending sequence (`isBelow`: the element there is below the key), by binary search.
@inline(__always)
func lowerBound(from start: Int, to end: Int, _ isBelow: (Int) -> Bool) -> Int {
    var lo = start, hi = end
    while lo < hi { let mid = (lo + hi) / 2; if isBelow(mid) { lo = mid + 1 } else { hi = mid } }
    return lo
}

/// As `lowerBound`, for a key expected near `start`: steps of 1, 2, 4, ... past it, then a
/// binary search within the last step, O(log d) for a key d places on.
@inline(__always)
func gallop(from start: Int, to end: Int, _ isBelow: (Int) -> Bool) -> Int {
    var lo = start, step = 1, hi = start
    while hi < end && isBelow(hi) { lo = hi + 1; hi += step; step *= 2 }
    return lowerBound(from: lo, to: min(hi, end), isBelow)
}
