import BinaryCodes
@testable import CodeStore
import Testing

/// `sortedPrefix` (and `best`, unordered) against the full sort's prefix, on seeded arrays full of ties (broken by a
/// unique index, as the ranking breaks them by slot), at every prefix length around the edges.
@Suite struct SortedPrefixTests {
    @Test func equalsTheFullSortsPrefix() {
        var rng = SeededGenerator(seed: 77)
        for size in [0, 1, 2, 3, 5, 10, 64, 257, 1_000, 5_000] {
            let items = (0..<size).map { (score: Int(rng.next() % 7), id: $0) }
            let order: ((score: Int, id: Int), (score: Int, id: Int)) -> Bool = { ($0.score, -$0.id) > ($1.score, -$1.id) }
            let full = items.sorted(by: order)
            // A few of many (count x 16 <= size) take the heap's path, more the quickselect's.
            for count in Set([0, 1, 2, size / 64, size / 20, size / 16, size / 16 + 1, size / 3, size / 2, size - 1, size, size + 5]) where count >= 0 {
                let got = items.sortedPrefix(count, by: order)
                #expect(got.map(\.id) == Array(full.prefix(count)).map(\.id), "size \(size), count \(count)")
                // `best`: the same elements, in any order.
                let set = items.best(count, by: order)
                #expect(set.count == min(count, size) && Set(set.map(\.id)) == Set(full.prefix(count).map(\.id)), "size \(size), count \(count)")
            }
        }
    }

    /// The ranking's candidates by slot (a radix sort, 8 bits a pass): the comparison sort's
    /// order, for slots needing one to four passes and a slot of 0, with each tuple kept whole.
    @Test func candidatesSortedBySlotEqualTheComparisonSort() {
        var rng = SeededGenerator(seed: 78)
        for (size, range) in [(0, 10), (1, 10), (2, 2), (200, 256), (1_000, 70_000), (3_000, 1 << 20), (500, (1 << 32) - 1)] {
            var slots = Set<Int>()
            if size > 1 { slots.insert(0) }
            while slots.count < size { slots.insert(Int(rng.next() % UInt64(range))) }
            let chosen = slots.shuffled(using: &rng).map { (slot: $0, distance: Int(rng.next() % 1024), code: Double(rng.next() % 1000) / 7) }
            let got = CodeIndex.sortedBySlot(chosen)
            let expected = chosen.sorted { $0.slot < $1.slot }
            let sameSlots = got.map(\.slot) == expected.map(\.slot)
            let sameTuples = got.map(\.distance) == expected.map(\.distance) && got.map(\.code) == expected.map(\.code)
            #expect(sameSlots && sameTuples, "size \(size), slots below \(range)")
        }
    }
}
