import BinaryCodes
@testable import CodeStore
import TestSupport
import Testing

/// The in-memory inversion of a batch's term records scores every candidate as `BM25.score`
/// scores its record, to the last bit.
@Suite struct CountedPostingsTests {
    /// A pool of 49 term hashes: 20 small ones and 5 sharing another bucket (buckets of the
    /// inversion with many entries, sorted as pairs), 20 anywhere in 48 bits, and `rare`; seeded.
    static func pool(seed: UInt64) -> [UInt64] {
        var rng = SeededGenerator(seed: seed)
        return (1 ... 20).map(UInt64.init) + (0 ..< 20).map { _ in rng.next() >> 16 } + (0 ..< 5).map { 0xABCD_0000_0000 | UInt64($0 * 977) }
            + rare
    }

    /// Four hashes of one bucket that only slots 10 to 15 hold, two or three each, interleaved
    /// (a bucket of a few entries, sorted by insertion).
    static let rare: [UInt64] = (0 ..< 4).map { 0x1234_0000_0000 | UInt64($0) }

    /// Records of terms from `pool` (counts up to 300, saturating at 255), some slots without a
    /// record and one damaged record; seeded.
    static func records(seed: UInt64) -> [[UInt8]?] {
        var rng = SeededGenerator(seed: seed)
        let pool = Self.pool(seed: seed).filter { !Self.rare.contains($0) }
        return (0 ..< 200).map { slot -> [UInt8]? in
            if slot % 17 == 3 { return nil }
            if slot == 50 { return [1, 0, 0, 0, 9, 0, 0, 0] } // claims 9 terms, holds none
            let terms = (0 ..< Int(rng.next() % 60)).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }
                + (slot == 7 ? [UInt64](repeating: 11, count: 300) : [])
                + (10 ..< 16 ~= slot ? Self.rare.filter { $0 & 3 != UInt64(slot % 3) } : [])
            return TermCounts(terms: terms).encoded()
        }
    }

    @Test func sumsAreTheBM25ScoresOfEachCandidatesRecord() throws {
        let stored = Self.records(seed: 3)
        var rng = SeededGenerator(seed: 4)
        try withRecords(stored) { records in
            let postings = try #require(CountedPostings(records: records, snapshot: 1))
            #expect(postings.slotCount == 200)
            var positions = [Int32](repeating: -1, count: 200)
            for _ in 0 ..< 30 {
                // Query terms ascending by hash, some that no record holds (0, and hashes beside
                // the pool's: the pool's with the lowest bit flipped).
                let pool = Self.pool(seed: 3)
                let hashes = Set((0 ..< 1 + Int(rng.next() % 12)).map { _ -> UInt64 in
                    let h = pool[Int(rng.next() % UInt64(pool.count))]
                    return rng.next() % 5 == 0 ? h ^ 1 : h
                } + [0]).sorted()
                let scorer = BM25(terms: hashes.map { ($0, Double(1 + rng.next() % 50) / 10) }, k1: 1.2, b: 0.75, averageLength: 31.5)
                let candidates = (0 ..< 200).filter { _ in rng.next() % 3 != 0 }
                let sums = postings.sums(scorer, candidates: candidates, positions: &positions)
                #expect(sums == candidates.map { records[$0].map(scorer.score) ?? 0 })
                #expect(positions.allSatisfy { $0 == -1 })
            }
            // The saturated count and the damaged record.
            let scorer = BM25(terms: [(11, 1)], k1: 1.2, b: 0.75, averageLength: 31.5)
            let sums = postings.sums(scorer, candidates: [7, 50], positions: &positions)
            #expect(sums[0] == scorer.score(records[7]!) && sums[0] > 0)
            #expect(sums[1] == 0)
        }
    }

    @Test func recordsPastTheBudgetAreNotInverted() throws {
        let stored = Self.records(seed: 5)
        withRecords(stored) { records in
            let entries = records.reduce(0) { $0 + ($1.flatMap(StoredTerms.init)?.count ?? 0) }
            #expect(CountedPostings(records: records, snapshot: 1, budget: entries) != nil)
            #expect(CountedPostings(records: records, snapshot: 1, budget: entries - 1) == nil)
        }
    }

    /// Lends `stored` as the raw records a read transaction would.
    func withRecords<R>(_ stored: [[UInt8]?], _ body: ([UnsafeRawBufferPointer?]) throws -> R) rethrows -> R {
        var buffer = TermRecordBuffer()
        for record in stored { buffer.append(record) }
        return try buffer.withRecords(body)
    }
}
