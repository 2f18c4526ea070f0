import BinaryCodes
@testable import CodeStore
import Testing

/// `sortedPrefix` against the full sort's prefix, on seeded arrays full of ties (broken by a
/// unique index, as the ranking breaks them by slot), at every prefix length around the edges.
@Suite struct SortedPrefixTests {
    @Test func equalsTheFullSortsPrefix() {
        var rng = SeededGenerator(seed: 77)
        for size in [0, 1, 2, 3, 5, 10, 64, 257, 1_000] {
            let items = (0..<size).map { (score: Int(rng.next() % 7), id: $0) }
            let order: ((score: Int, id: Int), (score: Int, id: Int)) -> Bool = { ($0.score, -$0.id) > ($1.score, -$1.id) }
            let full = items.sorted(by: order)
            for count in Set([0, 1, 2, size / 3, size / 2, size - 1, size, size + 5]) where count >= 0 {
                let got = items.sortedPrefix(count, by: order)
                #expect(got.map(\.id) == Array(full.prefix(count)).map(\.id), "size \(size), count \(count)")
            }
        }
    }
}
