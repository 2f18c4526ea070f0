@testable import Encoder
import BinaryCodes
import Foundation
import Testing
import TestSupport

/// `BitExplanation.explain` (hidden layers in blocks, top terms by selection, on all cores)
/// against the naive reference: every candidate's full logits, every bit's pushes sorted.
@Suite struct ExplanationTests {
    /// The reference: one forward pass per candidate term, then a full sort of each bit's
    /// pushes by push (ties: term index), yes from its top and no from its bottom.
    static func naiveExplain(_ model: EncoderModel, bits: [Int], top: Int, commonShare: Double) -> [BitExplanation] {
        let idf = model.vocabulary.idf
        let byIDF = idf.indices.sorted { idf[$0] != idf[$1] ? idf[$0] < idf[$1] : $0 < $1 }
        let candidates = byIDF.prefix(max(1, Int(Double(byIDF.count) * min(1, max(0, commonShare))))).sorted()
        let base = model.logits(SparseVector())
        var pushes = [[Float]](repeating: [], count: model.bits)
        for t in candidates {
            let logits = model.logits(SparseVector(indices: [Int32(t)], values: [1]))
            for b in Set(bits) where b < model.config.bits { pushes[b].append(logits[b] - base[b]) }
        }
        return bits.map { b in
            let order = pushes[b].indices.sorted { pushes[b][$0] != pushes[b][$1] ? pushes[b][$0] > pushes[b][$1] : $0 < $1 }
            let term = { (i: Int) in BitExplanation.Term(term: model.vocabulary.terms[candidates[i]], push: pushes[b][i]) }
            return BitExplanation(bit: b, yes: order.prefix(top).filter { pushes[b][$0] > 0 }.map(term),
                                  no: order.reversed().prefix(top).filter { pushes[b][$0] < 0 }.map(term))
        }
    }

    /// A seeded model of `terms` words in which every seventh term repeats the weights of the
    /// one before it (equal pushes everywhere: the tie order is exercised) and IDFs repeat.
    static func model(terms: Int, bits: Int, hidden: Int, format: WeightFormat) -> EncoderModel {
        var rng = SeededGenerator(seed: 11)
        func uniform() -> Float { Float(Double(rng.next() >> 11) / Double(1 << 53)) * 2 - 1 }
        var w1 = [Float](repeating: 0, count: terms * hidden)
        for t in 0..<terms {
            for c in 0..<hidden { w1[t * hidden + c] = t % 7 == 6 ? w1[(t - 1) * hidden + c] : uniform() }
        }
        let w2 = (0..<(bits * hidden)).map { _ in uniform() }
        return EncoderModel(
            config: ModelConfig(bits: bits, hidden: hidden, weights: format),
            vocabulary: Vocabulary(terms: (0..<terms).map { "w\($0)" }, idf: (0..<terms).map { 1 + Float($0 % 13) / 4 }),
            layer1: PackedMatrix(quantizing: w1, rows: terms, cols: hidden, format: format),
            bias1: (0..<hidden).map { _ in uniform() * 0.1 },
            layer2: PackedMatrix(quantizing: w2, rows: bits, cols: hidden, format: format),
            bias2: (0..<bits).map { _ in uniform() * 0.1 })
    }

    /// The first bit whose explanations differ, described; nil when all agree.
    static func firstDifference(_ a: [BitExplanation], _ b: [BitExplanation]) -> String? {
        guard a.count == b.count else { return "\(a.count) explanations against \(b.count)" }
        return zip(a, b).first { $0.bit != $1.bit || $0.yes != $1.yes || $0.no != $1.no }
            .map { "bit \($0.bit): yes \($0.yes.map(\.term)) no \($0.no.map(\.term)); reference bit \($1.bit): yes \($1.yes.map(\.term)) no \($1.no.map(\.term))" }
    }

    /// 1,300 candidates cross the 512-term blocks twice; 70 bits cross a word.
    @Test(arguments: [WeightFormat.ternary, .binary, .fp4e2m1, .float])
    func explainMatchesTheNaiveReference(format: WeightFormat) {
        let model = Self.model(terms: 1300, bits: 70, hidden: 40, format: format)
        let all = Array(0..<70)
        for top in [1, 3, 10] {
            let fast = BitExplanation.explain(model, top: top, commonShare: 1)
            #expect(Self.firstDifference(fast, Self.naiveExplain(model, bits: all, top: top, commonShare: 1)) == nil, "top \(top)")
            #expect(fast.contains { $0.yes.count == top } && fast.contains { $0.no.count == top })
        }
        let half = BitExplanation.explain(model, top: 5)
        #expect(Self.firstDifference(half, Self.naiveExplain(model, bits: all, top: 5, commonShare: 0.5)) == nil)
    }

    @Test func equalPushesKeepTheReferenceOrder() {
        let model = Self.model(terms: 700, bits: 16, hidden: 24, format: .ternary)
        let fast = BitExplanation.explain(model, top: 40, commonShare: 1)
        // Each bit sees the twin terms' equal pushes; the order among them is the reference's.
        let twins = fast.flatMap { $0.yes + $0.no }.filter { t in Int(t.term.dropFirst())! % 7 == 6 }
        #expect(!twins.isEmpty)
        #expect(Self.firstDifference(fast, Self.naiveExplain(model, bits: Array(0..<16), top: 40, commonShare: 1)) == nil)
    }

    @Test func askedBitsComeBackInTheAskedOrder() {
        let model = Self.model(terms: 300, bits: 40, hidden: 24, format: .ternary)
        let asked = [39, 2, 17, 2]
        let fast = BitExplanation.explain(model, bits: asked, top: 4)
        #expect(fast.map(\.bit) == asked)
        #expect(Self.firstDifference(fast, Self.naiveExplain(model, bits: asked, top: 4, commonShare: 0.5)) == nil)
        #expect(BitExplanation.explain(model, bits: [5], top: 0).allSatisfy { $0.yes.isEmpty && $0.no.isEmpty })
        #expect(BitExplanation.explain(model, bits: [], top: 3).isEmpty)
    }
}
