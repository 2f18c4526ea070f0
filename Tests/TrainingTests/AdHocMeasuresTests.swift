import Foundation
import Testing
@testable import Training

struct AdHocMeasuresTests {
    /// Two judged queries worked by hand, and one with no relevant document (not counted).
    @Test func measuresMatchAHandWorkedExample() {
        let judgements = ["q1": ["a": 1, "b": 1, "z": 0], "q2": ["c": 2], "q3": ["d": 0]]
        let rankings = ["q1": ["a", "x", "b"], "q2": ["y", "c"], "q3": ["d"]]
        let m = AdHocMeasures.evaluate(rankings, judgements: judgements)
        #expect(m.queries == 2)
        // q1: AP (1/1 + 2/3) / 2; q2: AP (1/2) / 1.
        #expect(abs(m.map100 - ((1 + 2.0 / 3) / 2 + 0.5) / 2) < 1e-12)
        #expect(abs(m.p10 - 0.15) < 1e-12)
        #expect(abs(m.recall100 - 1) < 1e-12 && abs(m.recall1000 - 1) < 1e-12)
        // nDCG@10: q1 (1 + 1/log2 4) / (1 + 1/log2 3); q2 (2/log2 3) / 2.
        let ndcg1 = (1 + 1 / log2(4.0)) / (1 + 1 / log2(3.0)), ndcg2 = (2 / log2(3.0)) / 2
        #expect(abs(m.ndcg10 - (ndcg1 + ndcg2) / 2) < 1e-12)
    }

    /// The sums run in query order, not in a dictionary's: the same judgements built in another
    /// order (and another capacity, so another iteration order) give the same figures to the bit.
    @Test func figuresDoNotDependOnTheDictionarysOrder() {
        let ids = (0 ..< 300).map { "q\($0)" }
        var rankings: [String: [String]] = [:]
        var ascending: [String: [String: Int]] = [:]
        for (i, q) in ids.enumerated() {
            // 1 to 7 relevant documents, ranked at varied places: fractions such as 1/3 and 1/7
            // whose sums depend on their order.
            let relevant = Dictionary(uniqueKeysWithValues: (0 ..< (1 + i % 7)).map { ("\(q)-d\($0)", 1 + $0 % 3) })
            ascending[q] = relevant
            rankings[q] = (0 ..< 20).map { r in r % (2 + i % 5) == 0 ? "\(q)-d\(r / (2 + i % 5))" : "other\(r)" }
        }
        var descending: [String: [String: Int]] = [:]
        descending.reserveCapacity(5_000)
        for q in ids.reversed() { descending[q] = ascending[q] }
        #expect(Array(ascending.keys) != Array(descending.keys), "the two dictionaries should iterate in different orders")
        let a = AdHocMeasures.evaluate(rankings, judgements: ascending), b = AdHocMeasures.evaluate(rankings, judgements: descending)
        #expect(a.queries == 300)
        #expect(a.map100.bitPattern == b.map100.bitPattern && a.ndcg10.bitPattern == b.ndcg10.bitPattern)
        #expect(a.p10.bitPattern == b.p10.bitPattern && a.recall100.bitPattern == b.recall100.bitPattern)
        #expect(a.recall1000.bitPattern == b.recall1000.bitPattern)
    }
}
