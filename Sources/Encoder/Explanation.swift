import BinaryCodes

/// What each bit of a model asks: for every output bit, the vocabulary terms that push it most
/// towards yes (1) and towards no (0).
///
/// Method: each term t is probed as a one-word document (its TF-IDF vector is the unit vector
/// e_t), and its push on bit b is `logit_b(e_t) - logit_b(empty document)`. This runs the real
/// network (ReLU, low-bit weights) rather than a linearisation. Only the more common terms are
/// candidates (by default the half of the vocabulary with the lowest IDF): a one-word document
/// weighs a rare term as much as a common one, so rare terms and bigrams otherwise crowd the
/// extremes with pushes no real document shows.
public struct BitExplanation: Sendable {
    /// A term of the text and how far it pushed the bit's logit (positive: towards 1).
    public struct Term: Sendable, Equatable {
        /// The term (a word, or "a_b" for a bigram).
        public var term: String
        /// Its contribution to the bit's logit.
        public var push: Float
    }

    public var bit: Int
    /// Terms with the largest positive push, strongest first.
    public var yes: [Term]
    /// Terms with the largest negative push, strongest first.
    public var no: [Term]

    /// Explanations of `bits` (default: all), `top` terms each way.
    ///
    /// The order is total: equal pushes rank the earlier vocabulary term first among the yes
    /// terms and the later one first among the no terms (the two ends of one list sorted by
    /// push, then by term index).
    ///
    /// Complexity: one hidden layer per candidate term (computed once, in blocks) and one
    /// output-row dot product per candidate and asked bit; the `top` terms each way are kept
    /// by selection, not by sorting every push. Runs on all cores.
    public static func explain(_ model: EncoderModel, bits: [Int]? = nil, top: Int = 10,
                               commonShare: Double = 0.5) -> [BitExplanation] {
        let all = bits ?? Array(0..<model.bits)
        // Query bits (`LexicalProjection`) ask no learned question: each term pushes each of
        // them by +-its weight at random. They are explained with no terms.
        let asked = Array(Set(all.filter { (0..<model.config.bits).contains($0) })).sorted()
        let candidates = asked.isEmpty ? [] : commonTerms(model, share: commonShare)
        let chosen = pushExtremes(model, candidates: candidates, bits: asked, top: max(0, top))
        var byBit: [Int: (yes: [Term], no: [Term])] = [:]
        for (b, extremes) in zip(asked, chosen) {
            let term = { (p: Push) in Term(term: model.vocabulary.terms[candidates[p.index]], push: p.value) }
            byBit[b] = (extremes.yes.filter { $0.value > 0 }.map(term), extremes.no.filter { $0.value < 0 }.map(term))
        }
        return all.map { b in BitExplanation(bit: b, yes: byBit[b]?.yes ?? [], no: byBit[b]?.no ?? []) }
    }

    /// The vocabulary indices of the `share` of terms with the lowest IDF (at least one), in
    /// index order; equal IDFs keep the earlier term.
    static func commonTerms(_ model: EncoderModel, share: Double) -> [Int] {
        let idf = model.vocabulary.idf
        let byIDF = idf.indices.sorted { idf[$0] != idf[$1] ? idf[$0] < idf[$1] : $0 < $1 }
        return byIDF.prefix(max(1, Int(Double(byIDF.count) * min(1, max(0, share))))).sorted()
    }

    /// A candidate's push on one bit: `index` into the candidates.
    struct Push {
        var index: Int
        var value: Float
    }

    /// Candidates at a time whose hidden layers are held (a block of `hidden` Floats each).
    static let block = 512

    /// For each of `bits`, the `top` candidates with the largest push (strongest first) and the
    /// `top` with the smallest (weakest first).
    static func pushExtremes(_ model: EncoderModel, candidates: [Int], bits: [Int],
                             top: Int) -> [(yes: [Push], no: [Push])] {
        guard !bits.isEmpty, top > 0 else { return bits.map { _ in ([], []) } }
        let base = model.logits(SparseVector())
        let padded = model.layer1.paddedCols
        var extremes = [(yes: TopPushes, no: TopPushes)](
            repeating: (TopPushes(count: top, largest: true), TopPushes(count: top, largest: false)), count: bits.count)
        let hidden = UnsafeMutablePointer<Float>.allocate(capacity: block * padded)
        defer { hidden.deallocate() }
        for start in stride(from: 0, to: candidates.count, by: block) {
            let n = min(block, candidates.count - start)
            parallelFor(iterations: min(n, SearchOptions.onlineCores)) { worker in
                for i in stride(from: worker, to: n, by: SearchOptions.onlineCores) {
                    model.hiddenActivations(SparseVector(indices: [Int32(candidates[start + i])], values: [1]),
                                            into: hidden + i * padded)
                }
            }
            extremes.withUnsafeMutableBufferPointer { extremes in
                parallelFor(iterations: min(bits.count, SearchOptions.onlineCores)) { worker in
                    for j in stride(from: worker, to: bits.count, by: SearchOptions.onlineCores) {
                        let b = bits[j]
                        for i in 0..<n {
                            // The same arithmetic as `logits` for a one-term document.
                            let push = Push(index: start + i, value: (model.layer2.dot(row: b, hidden + i * padded) + model.bias2[b]) - base[b])
                            extremes[j].yes.offer(push)
                            extremes[j].no.offer(push)
                        }
                    }
                }
            }
        }
        return extremes.map { ($0.yes.pushes, $0.no.pushes) }
    }
}

/// The `count` best pushes seen, best first: the largest values (ties: lower index first) or
/// the smallest (ties: higher index first).
struct TopPushes {
    let count: Int
    let largest: Bool
    private(set) var pushes: [BitExplanation.Push] = []

    init(count: Int, largest: Bool) {
        self.count = count
        self.largest = largest
        pushes.reserveCapacity(count + 1)
    }

    /// Whether `a` ranks before `b`.
    func before(_ a: BitExplanation.Push, _ b: BitExplanation.Push) -> Bool {
        if a.value != b.value { return largest ? a.value > b.value : a.value < b.value }
        return largest ? a.index < b.index : a.index > b.index
    }

    mutating func offer(_ p: BitExplanation.Push) {
        if pushes.count == count, let last = pushes.last, !before(p, last) { return }
        var i = pushes.count
        while i > 0 && before(p, pushes[i - 1]) { i -= 1 }
        pushes.insert(p, at: i)
        if pushes.count > count { pushes.removeLast() }
    }
}
