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
    public static func explain(_ model: EncoderModel, bits: [Int]? = nil, top: Int = 10,
                               commonShare: Double = 0.5) -> [BitExplanation] {
        // Query bits (`LexicalProjection`) ask no learned question: each term pushes each of
        // them by +-its weight at random. They are explained with no terms.
        let all = bits ?? Array(0..<model.bits)
        let chosen = all.filter { $0 < model.config.bits }
        let base = model.logits(SparseVector())
        let byIDF = model.vocabulary.idf.indices.sorted { model.vocabulary.idf[$0] != model.vocabulary.idf[$1] ? model.vocabulary.idf[$0] < model.vocabulary.idf[$1] : $0 < $1 }
        let candidates = byIDF.prefix(max(1, Int(Double(byIDF.count) * min(1, max(0, commonShare))))).sorted()
        var pushes = [[Float]](repeating: [], count: model.bits)
        for t in candidates {
            let logits = model.logits(SparseVector(indices: [Int32(t)], values: [1]))
            for b in chosen { pushes[b].append(logits[b] - base[b]) }
        }
        return all.map { b in
            // A query bit's pushes stay empty: no terms either way.
            let order = pushes[b].indices.sorted { pushes[b][$0] != pushes[b][$1] ? pushes[b][$0] > pushes[b][$1] : $0 < $1 }
            let term = { (i: Int) in Term(term: model.vocabulary.terms[candidates[i]], push: pushes[b][i]) }
            return BitExplanation(bit: b, yes: order.prefix(top).filter { pushes[b][$0] > 0 }.map(term),
                                  no: order.reversed().prefix(top).filter { pushes[b][$0] < 0 }.map(term))
        }
    }
}
