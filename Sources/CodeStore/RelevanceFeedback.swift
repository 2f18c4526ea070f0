import Foundation

/// Pseudo-relevance feedback for typed queries: RM3 (Lavrenko and Croft, SIGIR 2001; the
/// interpolated form of Abdul-Jaleel et al., TREC 2004), as Anserini runs it.
///
/// A short query names few of the words its relevant documents use ("slipstream" for a paper
/// that says "propeller wake"). RM3 reads the first round's best documents, builds a relevance
/// model from their terms, each document's term distribution weighted by the likelihood of the
/// query under it, P(Q | D), as in Lavrenko and Croft's relevance model (and Indri's RM3),
/// with the BM25 score taken as that log-likelihood:
///
///     P(w | R) ∝ Σ_{D in top fbDocs} exp(score(D) - max score) · tf(w, D) / |D|
///
/// keeps its `terms` strongest terms, and mixes it with the query's own term distribution:
///
///     weight(w) = λ · qtf(w) / |Q| + (1 - λ) · P(w | R)
///
/// The expanded query is scored by BM25 again, each term's IDF times its weight. The constants
/// are Anserini's published defaults (fbDocs 10, fbTerms 10, originalQueryWeight 0.5), not
/// tuned on any collection of ours (docs/EVALUATION.md). Anserini weights a document by its
/// score itself; the first round's ten best then count nearly alike, and on questions that
/// want one answer (MedQuAD) their shared subject drowns the query's aspect word. Weighted by
/// exp(score), the best few dominate: chosen between the two forms on the training-side sets
/// (MedQuAD questions MAP 0.373 -> 0.413, Wikipedia titles 0.801 -> 0.839; docs/EVALUATION.md).
public struct RelevanceFeedback: Sendable, Equatable {
    /// First-round documents that feed the relevance model (0 turns feedback off).
    public var documents: Int
    /// Terms of the relevance model kept.
    public var terms: Int
    /// λ: the share of the original query in the expanded one (1: no expansion).
    public var originalWeight: Double

    /// Anserini's RM3 defaults: 10 documents, 10 terms, original query weight 0.5.
    public init(documents: Int = 10, terms: Int = 10, originalWeight: Double = 0.5) {
        self.documents = documents
        self.terms = terms
        self.originalWeight = originalWeight
    }

    /// No feedback: the first round's order is final.
    public static let off = RelevanceFeedback(documents: 0)

    /// Whether feedback runs at all.
    public var isOn: Bool { documents > 0 && terms > 0 && originalWeight < 1 }

    /// The expanded query's weight per term (summing to 1), ascending by hash.
    /// - Parameters:
    ///   - query: the query's terms with their counts (the terms the index knows).
    ///   - feedback: the first round's best documents with their BM25 scores (positive), best
    ///     first; each document's distinct terms with their counts.
    func expand(query: [(hash: UInt64, count: Int)], feedback: [(score: Double, terms: [(hash: UInt64, count: Int)])]) -> [(hash: UInt64, weight: Double)] {
        var model: [UInt64: Double] = [:]
        let best = feedback.lazy.map(\.score).filter { $0 > 0 }.max() ?? 0
        for (score, terms) in feedback where score > 0 {
            let length = terms.reduce(0) { $0 + $1.count }
            guard length > 0 else { continue }
            // P(Q | D) relative to the best document's: in (0, 1], 1 for the best.
            let likelihood = exp(score - best)
            for t in terms { model[t.hash, default: 0] += likelihood * Double(t.count) / Double(length) }
        }
        // The strongest terms, ties by hash so the choice never depends on dictionary order.
        let kept = model.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(terms)
        let modelTotal = kept.reduce(0) { $0 + $1.value }
        let queryTotal = query.reduce(0) { $0 + $1.count }
        var mixed: [UInt64: Double] = [:]
        if queryTotal > 0 {
            let share = modelTotal > 0 ? originalWeight : 1
            for t in query { mixed[t.hash, default: 0] += share * Double(t.count) / Double(queryTotal) }
        }
        if modelTotal > 0 {
            let share = queryTotal > 0 ? 1 - originalWeight : 1
            for (h, v) in kept { mixed[h, default: 0] += share * v / modelTotal }
        }
        return mixed.map { (hash: $0.key, weight: $0.value) }.sorted { $0.hash < $1.hash }
    }
}

extension StoredTerms {
    /// The record's distinct terms with their counts, ascending by hash.
    var termsWithCounts: [(hash: UInt64, count: Int)] {
        (0..<count).map { (hash: hash($0), count: Int(termCount($0))) }
    }
}

extension RelevanceFeedback {
    /// Feedback for the codes alone (`Rescoring.none`), where no term is read: Rocchio (1971)
    /// in code space. The first round's best `documents` codes, as +-1 per bit, are averaged,
    /// each weighted by exp((its score - the best score) / σ), σ the standard deviation of the
    /// first round's code scores over the candidates it scored; the query's logits and that
    /// centroid, each scaled to unit length, are mixed `originalWeight` to `1 - originalWeight`,
    /// and the mix scores the same candidates again (asymmetric score). The constants are RM3's
    /// (10 documents, half and half), not tuned on any collection. The centroid covers the bits
    /// the query weighs (non-zero logits): for a typed query of a model with query bits, those
    /// bits alone.
    ///
    /// The weights are the terms' RM3 weighting (`expand`) carried to codes: the code score is
    /// no log-likelihood, so its unit is taken from the scores themselves (a z-score), by rule,
    /// not fitted. Chosen on the training-side sets (docs/EVALUATION.md, "Code feedback
    /// weighted by score"): MAP with feedback, uniform weights -> these, MedQuAD questions
    /// 0.335 -> 0.348, Wikipedia titles 0.666 -> 0.721 (weights 1 / rank: 0.350, 0.698). Which
    /// bits the centroid covers was chosen on the titles too: 0.656 over the query bits, 0.646
    /// over all bits, 0.645 without feedback (then with uniform weights).
    /// - Parameters:
    ///   - logits: the query's logits, one per bit.
    ///   - feedback: the first round's best codes (each `(logits.count + 63) / 64` words) with
    ///     their first-round scores, best first.
    ///   - spread: σ, the standard deviation of the first round's scores over its candidates
    ///     (`RelevanceFeedback.spread`); 0 weighs the codes alike.
    /// - Returns: the second round's logits, or nil when there is nothing to mix.
    package func codeLogits(_ logits: [Float], feedback: [(code: [UInt64], score: Double)], spread: Double) -> [Float]? {
        let used = feedback.prefix(documents)
        guard isOn, let best = used.first?.score else { return nil }
        let bits = logits.count
        var centroid = [Float](repeating: 0, count: bits)
        for (code, score) in used {
            let weight = spread > 0 ? Float(exp((score - best) / spread)) : 1
            for b in 0 ..< bits where logits[b] != 0 { centroid[b] += (code[b >> 6] >> UInt64(b & 63)) & 1 == 1 ? weight : -weight }
        }
        let queryNorm = sqrt(logits.reduce(0) { $0 + $1 * $1 }), centroidNorm = sqrt(centroid.reduce(0) { $0 + $1 * $1 })
        guard queryNorm > 0, centroidNorm > 0 else { return nil }
        let keep = Float(originalWeight)
        return (0 ..< bits).map { keep * logits[$0] / queryNorm + (1 - keep) * centroid[$0] / centroidNorm }
    }

    /// The standard deviation of `scores` (population form; 0 for fewer than two): the unit of
    /// the code feedback's weights (`codeLogits`).
    package static func spread(_ scores: some Collection<Double>) -> Double {
        guard scores.count > 1 else { return 0 }
        let mean = scores.reduce(0, +) / Double(scores.count)
        return (scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(scores.count)).squareRoot()
    }
}
