import BinaryCodes
import TestSupport
import Testing

/// The asymmetric score by byte tables against its bit-by-bit definition.
@Suite struct AsymmetricScorerTests {
    /// Logits that are small integers, so every order of summation gives the same Float and
    /// rankings (ties included) can be compared exactly.
    func integerLogits(_ bits: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<bits).map { _ in Float(Int(rng.next() % 9) - 4) }
    }

    @Test(arguments: [1, 7, 8, 63, 64, 65, 100, 256, 384])
    func tableScoreIsTheDefinition(bits: Int) throws {
        let codes = try randomMatrix(bits: bits, count: 50, seed: UInt64(bits))
        // Integer logits: exactly equal; real-valued ones: equal up to rounding.
        let exact = integerLogits(bits, seed: 5)
        var rng = SeededGenerator(seed: 6)
        let real = (0..<bits).map { _ in Float(Double(rng.next() % 20_001) / 10_000 - 1) }
        for logits in [exact, real] {
            let scorer = AsymmetricScorer(logits: logits)
            for i in 0..<codes.count {
                let expected = AsymmetricScorer.reference(logits: logits, code: codes[i])
                let got = codes[i].words.withUnsafeBufferPointer { scorer.score($0.baseAddress!) }
                if logits == exact { #expect(got == expected, "bits \(bits) code \(i)") }
                else { #expect(abs(got - expected) <= 1e-4 * Float(bits), "bits \(bits) code \(i): \(got) vs \(expected)") }
            }
        }
    }

    /// Zero logits outside a run of bytes (a typed query weighing only the query bits): the
    /// skipped bytes add exactly nothing, so the score is the definition's, at both ends, and
    /// for all-zero logits it is 0.
    @Test(arguments: [(1024, 256 ..< 1024), (1024, 0 ..< 768), (200, 13 ..< 77), (64, 0 ..< 0)])
    func zeroLogitsOutsideARunAreSkippedExactly(shape: (bits: Int, weighed: Range<Int>)) throws {
        let codes = try randomMatrix(bits: shape.bits, count: 40, seed: 21)
        let all = integerLogits(shape.bits, seed: 22)
        let logits = all.indices.map { shape.weighed.contains($0) ? all[$0] : 0 }
        let scorer = AsymmetricScorer(logits: logits)
        for i in 0..<codes.count {
            let got = codes[i].words.withUnsafeBufferPointer { scorer.score($0.baseAddress!) }
            #expect(got == AsymmetricScorer.reference(logits: logits, code: codes[i]), "code \(i)")
            if shape.weighed.isEmpty { #expect(got == 0) }
        }
    }

    @Test func shortlistRanksByScoreAndKeepsTiesInTheirOrder() throws {
        let bits = 70
        let codes = try randomMatrix(bits: bits, count: 200, seed: 9, distinct: 40) // repeated codes: ties
        let logits = integerLogits(bits, seed: 10)
        let scorer = AsymmetricScorer(logits: logits)
        // Candidates in some order (as a Hamming search would give them).
        var rng = SeededGenerator(seed: 11)
        let candidates = (0..<200).shuffled(using: &rng).prefix(120).enumerated().map { Neighbor(id: $0.element, distance: $0.offset / 10) }
        let scores = candidates.map { AsymmetricScorer.reference(logits: logits, code: codes[$0.id]) }
        let expected = candidates.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(30).map { candidates[$0] }
        let got = codes.storage.withUnsafeBufferPointer { all in
            scorer.shortlist(Array(candidates), keep: 30) { all.baseAddress! + $0 * codes.wordsPerCode }
        }
        #expect(got == expected)
        #expect(Set(scores).count < scores.count, "the fixture has ties")
        // Keeping more than there are, or none.
        let all = codes.storage.withUnsafeBufferPointer { p in scorer.shortlist(Array(candidates), keep: 500) { p.baseAddress! + $0 * codes.wordsPerCode } }
        #expect(all.count == 120)
        #expect(scorer.shortlist([], keep: 10) { _ in fatalError("no candidate to score") }.isEmpty)
    }
}
