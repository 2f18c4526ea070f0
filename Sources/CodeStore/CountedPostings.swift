/// Every document's term record inverted in memory, for one batch of queries: for each term,
/// the slots holding it (ascending) with the term's count there, and each slot's length.
///
/// The stored postings name the slots holding a term but not how often (the count lives in
/// each document's record), so BM25 term at a time binary-searches a candidate's record for
/// every query term it holds, and a typed query reads the whole record of every candidate,
/// twice with its feedback round. A batch whose shortlists cover every document many times
/// (`CodeIndex.rank`, `Limits.coverage`) inverts the records once instead, and then scores each
/// query by walking its terms' postings alone: O(sum of the terms' document frequencies) a
/// query, no record read. Built only within a memory budget; the scores are those of
/// `BM25.score` to the last bit (the same terms added in the same ascending hash order, with
/// the same arithmetic, `BM25.saturated`).
///
/// The records come from one read transaction; `snapshot` is that transaction's id, so that a
/// part of the batch reading another snapshot (a write committed in between) does not use it.
struct CountedPostings {
    /// `LMDBTransaction.snapshot` of the records it was built from.
    let snapshot: Int
    /// Distinct terms, ascending; term t's entries are `starts[t] ..< starts[t + 1]`.
    private let terms: [UInt64]
    private let starts: [Int]
    private let slots: [UInt32]
    private let counts: [UInt8]
    /// Each slot's length in terms (0 for a slot without a record).
    private let lengths: [UInt32]

    /// When a batch inverts its records (`CodeIndex.inversionLimits`).
    struct Limits {
        /// How many times the batch's shortlists must cover the documents (queries x shortlist
        /// >= coverage x documents) for the inversion to pay: on 20 Newsgroups (18,812
        /// documents, 2.8M entries) reading and inverting the records took about 0.28 s of CPU,
        /// and each query of the 7,532-message batch saved 0.55 ms (a pasted message, term at a
        /// time) to 2 ms (a typed one, with its feedback round): 140 to 500 queries of 5,000
        /// candidates, coverage 37 to 133. 128, so that a batch never pays more than it saves.
        var coverage = 128
        /// Entries (a document's distinct terms, summed) beyond which no inversion is built: 13
        /// bytes each while it is built, 5 kept. 16M entries is about 110,000 documents of 150
        /// distinct terms, 210 MB at the peak of the build.
        var budget = 16 << 20
    }

    /// Inverts `records` (slot i's term record, nil for none; a malformed record counts as
    /// none, as `BM25.score` scores it 0). Nil when they hold more than `budget` entries.
    /// - Complexity: O(entries) expected: the entries are counted, then placed straight into
    ///   buckets by the top 16 bits of their 48-bit hash (records in slot order, so each bucket
    ///   holds its slots ascending), then each bucket is sorted by hash and slot. At the peak,
    ///   13 bytes an entry.
    init?(records: [UnsafeRawBufferPointer?], snapshot: Int, budget: Int = Limits().budget) {
        guard records.count < 1 << 32 else { return nil }
        // A record's hashes ascend; one that does not (a damaged record, which `check` reports)
        // is skipped, both passes alike.
        func forEachEntry(_ body: (_ slot: Int, _ record: StoredTerms, _ j: Int, _ hash: UInt64) -> Void) {
            for (slot, raw) in records.enumerated() {
                guard let raw, let record = StoredTerms(raw) else { continue }
                var previous: UInt64?
                for j in 0 ..< record.count {
                    let h = record.hash(j)
                    if let previous, h <= previous { continue }
                    previous = h
                    body(slot, record, j, h)
                }
            }
        }
        var bucketStarts = [Int](repeating: 0, count: Self.buckets + 1)
        var total = 0
        forEachEntry { _, _, _, h in bucketStarts[Int(h >> 32) + 1] += 1; total += 1 }
        guard total <= budget else { return nil }
        for b in 0 ..< Self.buckets { bucketStarts[b + 1] += bucketStarts[b] }
        // Key: hash above, the term's count in the low byte; slots beside.
        var keys = [UInt64](repeating: 0, count: total), owners = [UInt32](repeating: 0, count: total)
        var lengths = [UInt32](repeating: 0, count: records.count)
        for (slot, raw) in records.enumerated() {
            if let raw, let record = StoredTerms(raw) { lengths[slot] = UInt32(clamping: record.length) }
        }
        var next = bucketStarts
        forEachEntry { slot, record, j, h in
            let b = Int(h >> 32)
            keys[next[b]] = h << 8 | UInt64(record.termCount(j))
            owners[next[b]] = UInt32(slot)
            next[b] += 1
        }
        var terms = [UInt64](), starts = [Int]()
        var counts = [UInt8](repeating: 0, count: total)
        for b in 0 ..< Self.buckets where bucketStarts[b] < bucketStarts[b + 1] {
            let range = bucketStarts[b] ..< bucketStarts[b + 1]
            Self.sortByHashThenSlot(&keys, &owners, range)
            for e in range {
                let h = keys[e] >> 8
                if terms.last != h { terms.append(h); starts.append(e) }
                counts[e] = UInt8(truncatingIfNeeded: keys[e])
            }
        }
        starts.append(total)
        self.snapshot = snapshot
        self.terms = terms
        self.starts = starts
        self.slots = owners
        self.counts = counts
        self.lengths = lengths
    }

    /// Buckets of the inversion: the top 16 bits of a 48-bit hash.
    private static let buckets = 1 << 16

    /// Sorts `range` of `keys` (and `owners` beside them) by the hash (the key above its low
    /// byte), then the slot: insertion sort for a few, else a sort of the pairs.
    private static func sortByHashThenSlot(_ keys: inout [UInt64], _ owners: inout [UInt32], _ range: Range<Int>) {
        @inline(__always) func below(_ a: (UInt64, UInt32), _ b: (UInt64, UInt32)) -> Bool {
            (a.0 >> 8, a.1) < (b.0 >> 8, b.1)
        }
        if range.count <= 32 {
            for i in range.dropFirst() {
                let item = (keys[i], owners[i])
                var j = i
                while j > range.lowerBound && below(item, (keys[j - 1], owners[j - 1])) {
                    keys[j] = keys[j - 1]; owners[j] = owners[j - 1]
                    j -= 1
                }
                keys[j] = item.0; owners[j] = item.1
            }
            return
        }
        let pairs = range.map { (keys[$0], owners[$0]) }.sorted(by: below)
        for (e, pair) in zip(range, pairs) { keys[e] = pair.0; owners[e] = pair.1 }
    }

    /// Slots it covers.
    var slotCount: Int { lengths.count }

    /// BM25 of each of `candidates` (ascending slots below `slotCount`): the sums, in their
    /// order. `positions` holds -1 for every slot (`slotCount` of them) and is left so; it is
    /// the caller's, kept between queries.
    func sums(_ scorer: BM25, candidates: [Int], positions: inout [Int32]) -> [Double] {
        var sums = [Double](repeating: 0, count: candidates.count)
        for (i, slot) in candidates.enumerated() { positions[slot] = Int32(i) }
        for (hash, weight) in scorer.terms {
            let t = lowerBound(from: 0, to: terms.count) { terms[$0] < hash }
            guard t < terms.count && terms[t] == hash else { continue }
            for e in starts[t] ..< starts[t + 1] {
                let slot = Int(slots[e])
                let i = Int(positions[slot])
                guard i >= 0 else { continue }
                sums[i] += scorer.saturated(weight: weight, count: counts[e], norm: scorer.norm(length: Int(lengths[slot])))
            }
        }
        for slot in candidates { positions[slot] = -1 }
        return sums
    }
}

/// A part of a batch's use of `CountedPostings`: the postings and the scratch array of slot
/// positions that `CountedPostings.sums` needs, kept between the part's queries.
struct BatchTerms {
    let postings: CountedPostings
    private var positions: [Int32]

    init(postings: CountedPostings) {
        self.postings = postings
        positions = [Int32](repeating: -1, count: postings.slotCount)
    }

    /// BM25 of `candidates` (ascending slots): `CountedPostings.sums`.
    mutating func sums(_ scorer: BM25, candidates: [Int]) -> [Double] {
        postings.sums(scorer, candidates: candidates, positions: &positions)
    }
}
