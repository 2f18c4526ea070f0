import BinaryCodes
import CodeStore
import Foundation
import PostgresNIO

// The ranked search of text queries over an index of text documents in PostgreSQL: the same
// stages and rules as `CodeIndex.rank` (`LexicalQuery`), with the codes' shortlist and the rare
// terms' documents found in SQL.
extension PostgresCodeIndex {
    /// Ranks documents for `query` as an LMDB index does (`CodeIndex.rank`): the codes choose a
    /// bounded shortlist (`ORDER BY bit_count(code # q), id LIMIT n` in SQL, then the asymmetric
    /// score when the query has logits), the documents holding its rarest terms join it (one
    /// lookup in the `hashes` GIN index), and BM25 over the stored term records re-orders it,
    /// with RM3 feedback and fusion as `options` say. Every statement reads one snapshot (a
    /// repeatable-read, read-only transaction).
    ///
    /// Ties: where an LMDB index breaks a tie by slot (the order documents came in), this one
    /// breaks it by id; over the same documents the scores are the same.
    ///
    /// With `efSearch`, the codes' shortlist comes from pgvector's HNSW graph instead of the scan
    /// (`ORDER BY code <~> q` with `hnsw.ef_search` = `efSearch` and pgvector 0.8's iterative
    /// scans, which go on past `ef_search` until the shortlist is full): approximate (a near
    /// code can be missed), much faster on a large table. The rare terms' documents join as
    /// always, so a word only a few documents hold still finds them.
    /// - Throws: `CodeError.invalidK`, `IndexError.widthMismatch`; `.invalidSetting` for
    ///   `efSearch` outside 1 to 1,000, without a graph or with pgvector older than 0.8.
    public func rank(_ query: RankedQuery, k: Int, options: RankingOptions = RankingOptions(), fields: Bool = true,
                     efSearch: Int? = nil) async throws -> RankedResult {
        try HammingSearch.check(k: k)
        guard query.code.bits == bits else { throw IndexError.widthMismatch(path: path, indexBits: bits, codeBits: query.code.bits) }
        let counted = try query.counted(words: BinaryCode.wordCount(bits: bits))
        let shortlist = max(k, options.shortlist ?? RankingOptions.defaultShortlist(k: k))
        if let efSearch { try await checkIterativeGraphSearch(efSearch: efSearch) }
        return try await run {
            try await withTransaction { c in
                try await c.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
                if let efSearch { try await setGraphSearch(c, efSearch: efSearch) }
                let statistics = keepsTerms ? try await Self.termStatistics(c, name: name, logger: logger) : (documents: 0, totalLength: 0)
                let lexical = options.rescoring != .none && statistics.documents > 0
                let averageLength = statistics.documents > 0 ? max(1, Double(statistics.totalLength) / Double(statistics.documents)) : 1
                let scorer = query.logits.map { AsymmetricScorer(logits: $0) }
                func codeScore(_ code: BinaryCode, _ d: Int) -> Double {
                    guard let scorer else { return -Double(d) }
                    return code.words.withUnsafeBufferPointer { Double(scorer.score($0.baseAddress!)) }
                }

                // The codes' shortlist, best first by the code score (ties: distance, then id).
                var chosen: [Candidate] = []
                var considered = 0
                if query.codeIsInformative || !lexical {
                    // The same shortlist under every rescoring, as `CodeIndex.rank`.
                    let depth = (lexical || scorer != nil ? shortlist : k).saturatingProduct(scorer == nil ? 1 : max(1, options.asymmetricPool))
                    let rows = try await codeRows(c, query: query.code, counted: counted, sql: nearest(query.code, depth: depth, graph: efSearch != nil))
                    chosen = rows.map { Candidate(id: $0.id, distance: $0.distance, code: codeScore($0.code, $0.distance)) }
                    // The graph's come in its relaxed order: put them in the scan's.
                    if efSearch != nil { chosen.sort { ($0.distance, $0.id) < ($1.distance, $1.id) } }
                    considered = chosen.count
                    let best = { (c: [Candidate]) in
                        c.sortedPrefix(lexical ? shortlist : k) { ($0.code, -$0.distance, $1.id) > ($1.code, -$1.distance, $0.id) }
                    }
                    let pool = chosen
                    if scorer != nil { chosen = best(chosen) }
                    // A typed query's second round for the codes alone, as `CodeIndex.rank`.
                    if !lexical, options.feedsBackCodes(query), let logits = query.logits {
                        let codes = Dictionary(rows.map { ($0.id, $0.code) }, uniquingKeysWith: { a, _ in a })
                        if let mixed = options.feedback.codeLogits(logits, feedback: chosen.prefix(options.feedback.documents).compactMap { c in codes[c.id].map { (code: $0.words, score: c.code) } },
                                                                   spread: RelevanceFeedback.spread(pool.map(\.code))) {
                            let second = AsymmetricScorer(logits: mixed)
                            chosen = best(pool.map { candidate in
                                var c = candidate
                                c.code = codes[c.id]!.words.withUnsafeBufferPointer { Double(second.score($0.baseAddress!)) }
                                return c
                            })
                        }
                    }
                }
                if !lexical {
                    let top = Array(chosen.prefix(k))
                    let found = fields ? try await fieldsOf(c, ids: top.map(\.id)) : [:]
                    return RankedResult(hits: top.map { SearchHit(id: $0.id, distance: $0.distance, score: $0.code, fields: found[$0.id] ?? [:]) },
                                        usedTerms: false, lexicalOnly: false, candidates: considered)
                }
                chosen = Array(chosen.prefix(shortlist))
                let lexicalOnly = !query.codeIsInformative

                // The query's weighted terms, and the documents holding its rarest ones.
                let distinct = LexicalQuery.distinctTerms(query.terms)
                let known = Dictionary(uniqueKeysWithValues: zip(distinct, try await documentFrequencies(c, distinct)))
                let lexicalQuery = LexicalQuery(terms: query.terms, documents: statistics.documents, options: options) { $0.map { known[$0] ?? 0 } }
                let rare = lexicalQuery.rareTerms(shortlist: shortlist, k: k, options: options)
                var all = Dictionary(chosen.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                if !rare.isEmpty {
                    let joined = try await codeRows(c, query: query.code, counted: counted, sql: "WHERE hashes && \(Self.arrayLiteral(rare))::bigint[]")
                        .map { Candidate(id: $0.id, distance: $0.distance, code: codeScore($0.code, $0.distance)) }
                    for candidate in joined where all[candidate.id] == nil { all[candidate.id] = candidate }
                }
                // Candidates in id order: a candidate's place there breaks ties.
                var ordered = all.values.sorted { $0.id < $1.id }
                let stored = lexicalQuery.weighted.isEmpty ? [:] : try await termRecords(c, ids: ordered.map(\.id))
                var buffer = TermRecordBuffer()
                for candidate in ordered { buffer.append(stored[candidate.id]) }
                var bm25 = buffer.withRecords { lexicalQuery.scores($0, options: options, averageLength: averageLength) }
                if lexicalOnly {
                    // Only the documents that share a term with the query.
                    let kept = bm25.indices.filter { bm25[$0] > 0 }
                    ordered = kept.map { ordered[$0] }
                    bm25 = kept.map { bm25[$0] }
                    buffer = TermRecordBuffer()
                    for candidate in ordered { buffer.append(stored[candidate.id]) }
                }
                let places = Array(ordered.indices)
                if lexicalQuery.wantsFeedback(options) {
                    let first = bm25
                    let expansion = buffer.withRecords { lexicalQuery.expansion(options, bm25: first, tiebreak: places, records: $0) }
                    if !expansion.isEmpty {
                        let new = try await documentFrequencies(c, lexicalQuery.unknownTerms(of: expansion))
                        bm25 = buffer.withRecords {
                            lexicalQuery.feedbackScores($0, options: options, expansion: expansion, newFrequencies: new, averageLength: averageLength)
                        }
                    }
                }
                let order = LexicalQuery.order(code: ordered.map(\.code), bm25: bm25, tiebreak: places, k: k, options: options, lexicalOnly: lexicalOnly)
                let found = fields ? try await fieldsOf(c, ids: order.map { ordered[$0.index].id }) : [:]
                let hits = order.map { (i, score) in
                    SearchHit(id: ordered[i].id, distance: ordered[i].distance, score: score, bm25: bm25[i], fields: found[ordered[i].id] ?? [:])
                }
                return RankedResult(hits: hits, usedTerms: true, lexicalOnly: lexicalOnly, candidates: ordered.count)
            }
        }
    }

    /// A candidate of the ranked search: its id, Hamming distance and code score.
    struct Candidate {
        var id: String
        var distance: Int
        var code: Double
    }

    /// A bigint[] literal of hashes (numbers only, so it is safe inline).
    static func arrayLiteral(_ hashes: [UInt64]) -> String {
        "'{" + hashes.map { String($0) }.joined(separator: ",") + "}'"
    }
}
