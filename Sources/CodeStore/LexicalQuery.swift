import Foundation

/// The store-agnostic rules of the lexical stage for one text query: which of its terms count
/// and with what weight, which rare terms bring their documents in, the feedback round's
/// expanded query, and the final order of the candidates. An LMDB index (`CodeIndex.rank`) and a
/// PostgreSQL one read their candidates, term records and document frequencies their own way
/// and rank them by these same rules, so the two stores order the same candidates the same way.
package struct LexicalQuery {
    /// The query's terms that some document holds, ascending by hash, each with qtf x IDF.
    package private(set) var weighted: [(hash: UInt64, weight: Double)]
    /// The same terms with their document frequencies.
    package private(set) var frequencies: [(hash: UInt64, df: Int)]
    /// Each distinct query term's count in the query.
    package let counts: [UInt64: Int]
    /// A typed query (at most `maxQueryTerms` terms that documents hold), as opposed to a pasted
    /// document, whose terms are cut to the `maxQueryTerms` of highest weight.
    package let typed: Bool
    /// Documents with terms in the index (N of the IDF).
    package let documents: Int

    /// The query's distinct terms, ascending: the ones whose document frequencies `init` asks for.
    package static func distinctTerms(_ terms: [UInt64]) -> [UInt64] { Array(Set(terms)).sorted() }

    /// - Parameters:
    ///   - terms: the query's term hashes, with repetitions;
    ///   - documents: documents with terms in the index;
    ///   - documentFrequencies: documents holding each of the given terms, in the order given.
    package init(terms: [UInt64], documents: Int, options: RankingOptions,
                 documentFrequencies: ([UInt64]) throws -> [Int]) rethrows {
        var counts: [UInt64: Int] = [:]
        for t in terms { counts[t, default: 0] += 1 }
        self.counts = counts
        self.documents = documents
        let distinct = counts.keys.sorted()
        var weighted: [(hash: UInt64, weight: Double)] = []
        var frequencies: [(hash: UInt64, df: Int)] = []
        for (h, df) in zip(distinct, try documentFrequencies(distinct)) where df > 0 {
            weighted.append((h, Double(counts[h]!) * Self.idf(df: df, documents: documents)))
            frequencies.append((h, df))
        }
        // A query with more terms than are kept is a pasted document ("more like this"): it
        // names its subject already, and feedback would only double its cost.
        typed = weighted.count <= options.maxQueryTerms
        if !typed {
            let kept = Set(weighted.sorted { ($0.weight, $0.hash) > ($1.weight, $1.hash) }.prefix(options.maxQueryTerms).map(\.hash))
            weighted.removeAll { !kept.contains($0.hash) }
            frequencies.removeAll { !kept.contains($0.hash) }
        }
        self.weighted = weighted
        self.frequencies = frequencies
    }

    /// Robertson-Sparck Jones IDF, as Lucene: ln(1 + (N - df + 0.5) / (df + 0.5)), never negative.
    package static func idf(df: Int, documents: Int) -> Double {
        log(1 + (Double(documents) - Double(df) + 0.5) / (Double(df) + 0.5))
    }

    /// The terms whose documents join the candidates (`RankingOptions.rareTermBudget`): the
    /// rarest first, each whole, while the documents they add stay within the budget.
    package func rareTerms(shortlist: Int, k: Int, options: RankingOptions) -> [UInt64] {
        var budget = options.rareTermBudget(shortlist: shortlist, k: k, typed: typed)
        var out: [UInt64] = []
        for (h, df) in frequencies.sorted(by: { ($0.df, $0.hash) < ($1.df, $1.hash) }) {
            guard df <= budget else { break }
            out.append(h)
            budget -= df
        }
        return out
    }

    /// BM25 of this query's kept terms.
    func scorer(_ options: RankingOptions, averageLength: Double) -> BM25 {
        BM25(terms: weighted, k1: options.k1, b: options.b, averageLength: averageLength)
    }

    /// Whether a feedback round follows the first (a typed query with terms, feedback on).
    package func wantsFeedback(_ options: RankingOptions) -> Bool {
        typed && options.feedback.isOn && !weighted.isEmpty
    }

    /// RM3's expanded query (`RelevanceFeedback`) from the first round's best candidates, ascending
    /// by hash (empty when no candidate scored above 0). `bm25[i]` is candidate i's first-round
    /// score, `tiebreak[i]` its place in the store's order (ties go to the lower), `records[i]`
    /// its term record.
    package func expansion(_ options: RankingOptions, bm25: [Double], tiebreak: [Int],
                           records: [UnsafeRawBufferPointer?]) -> [(hash: UInt64, weight: Double)] {
        expansion(options, bm25: bm25, tiebreak: tiebreak) { records[$0] }
    }

    /// As `expansion(_:bm25:tiebreak:records:)`, reading only the records it needs (the first
    /// round's best, `RelevanceFeedback.documents` of them) through `record(i)`.
    func expansion(_ options: RankingOptions, bm25: [Double], tiebreak: [Int],
                   record: (Int) throws -> UnsafeRawBufferPointer?) rethrows -> [(hash: UInt64, weight: Double)] {
        let best = Array(bm25.indices).filter { bm25[$0] > 0 }
            .sortedPrefix(options.feedback.documents) { (bm25[$0], -tiebreak[$0]) > (bm25[$1], -tiebreak[$1]) }
        guard !best.isEmpty else { return [] }
        let feedback = try best.map { i in (score: bm25[i], terms: try record(i).flatMap(StoredTerms.init)?.termsWithCounts ?? []) }
        return options.feedback.expand(query: weighted.map { ($0.hash, counts[$0.hash] ?? 1) }, feedback: feedback)
    }

    /// The expansion's terms whose document frequencies are not known yet (not query terms).
    package func unknownTerms(of expansion: [(hash: UInt64, weight: Double)]) -> [UInt64] {
        let known = Set(frequencies.map(\.hash))
        return expansion.map(\.hash).filter { !known.contains($0) }
    }

    /// The scorer of the expanded query: each term's weight times its IDF (`newFrequencies`: the
    /// document frequencies of `unknownTerms(of:)`, in that order; terms no document holds drop).
    func feedbackScorer(_ options: RankingOptions, expansion: [(hash: UInt64, weight: Double)], newFrequencies: [Int],
                        averageLength: Double) -> BM25 {
        var known = Dictionary(uniqueKeysWithValues: frequencies.map { ($0.hash, $0.df) })
        for (h, df) in zip(unknownTerms(of: expansion), newFrequencies) { known[h] = df }
        var weighted: [(hash: UInt64, weight: Double)] = []
        for (h, w) in expansion {
            let df = known[h] ?? 0
            guard df > 0 else { continue }
            weighted.append((h, w * Self.idf(df: df, documents: documents)))
        }
        return BM25(terms: weighted, k1: options.k1, b: options.b, averageLength: averageLength)
    }

    /// First-round BM25 of each record (0 for none).
    package func scores(_ records: [UnsafeRawBufferPointer?], options: RankingOptions, averageLength: Double) -> [Double] {
        scorer(options, averageLength: averageLength).scores(records)
    }

    /// Second-round BM25 of each record under the expanded query.
    package func feedbackScores(_ records: [UnsafeRawBufferPointer?], options: RankingOptions, expansion: [(hash: UInt64, weight: Double)],
                                newFrequencies: [Int], averageLength: Double) -> [Double] {
        feedbackScorer(options, expansion: expansion, newFrequencies: newFrequencies, averageLength: averageLength).scores(records)
    }

    /// The best `k` candidates, best first, with their final scores: BM25 (ties by the code score,
    /// then `tiebreak`, lower first) or, for `.fused` (unless the query's code carried nothing),
    /// reciprocal-rank fusion of the code score's rank and BM25's rank.
    package static func order(code: [Double], bm25: [Double], tiebreak: [Int], k: Int, options: RankingOptions,
                              lexicalOnly: Bool) -> [(index: Int, score: Double)] {
        let fused: [Double]
        switch options.rescoring {
        case .fused where !lexicalOnly:
            // 1 / (c + rank) by the code score, plus the same by BM25 for the candidates that
            // hold a query term.
            var score = [Double](repeating: 0, count: code.count)
            let byCode = code.indices.sorted { (code[$0], -tiebreak[$0]) > (code[$1], -tiebreak[$1]) }
            for (r, i) in byCode.enumerated() { score[i] += 1 / (options.fusionConstant + Double(r + 1)) }
            let byTerms = bm25.indices.filter { bm25[$0] > 0 }.sorted { (bm25[$0], -tiebreak[$0]) > (bm25[$1], -tiebreak[$1]) }
            for (r, i) in byTerms.enumerated() { score[i] += 1 / (options.fusionConstant + Double(r + 1)) }
            fused = score
        default:
            fused = bm25
        }
        return Array(code.indices).sortedPrefix(k) { (fused[$0], code[$0], -tiebreak[$0]) > (fused[$1], code[$1], -tiebreak[$1]) }
            .map { ($0, fused[$0]) }
    }
}

/// Term records held in memory (a store that is not mapped, such as PostgreSQL), laid end to end
/// so that they can be lent as the raw records `LexicalQuery` reads.
package struct TermRecordBuffer {
    private var bytes: [UInt8] = []
    private var spans: [Range<Int>?] = []

    package init() {}

    /// Adds a record (nil: the document has no terms).
    package mutating func append(_ record: [UInt8]?) {
        guard let record else { spans.append(nil); return }
        spans.append(bytes.count ..< bytes.count + record.count)
        bytes += record
    }

    package var count: Int { spans.count }

    /// Calls `body` with the records, borrowed for the call.
    package func withRecords<R>(_ body: ([UnsafeRawBufferPointer?]) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { all in
            try body(spans.map { $0.map { UnsafeRawBufferPointer(rebasing: all[$0]) } })
        }
    }
}

extension TermCounts {
    /// The stored form (`encoded()`), for a store other than LMDB.
    package var storedForm: [UInt8] { encoded() }
}
