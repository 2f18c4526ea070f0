import BinaryCodes
import Foundation

/// How a text query's candidates are ordered once the codes have chosen them.
public enum Rescoring: String, CaseIterable, Sendable {
    /// Reciprocal-rank fusion of the code score and BM25.
    case fused
    /// BM25 alone over the candidates the codes chose, ties by the code score (the default: it
    /// measured best on the ad-hoc collections, docs/EVALUATION.md).
    case bm25
    /// The codes alone (asymmetric score, or Hamming distance): no term statistics are read.
    case none
}

/// Settings of the ranked (hybrid) search. Results never depend on the thread count.
public struct RankingOptions: Sendable {
    /// How candidates are ordered.
    public var rescoring: Rescoring = .bm25
    /// Candidates the codes choose per query, under every rescoring (`none` orders them by the
    /// code score alone; a query without logits, ordered by Hamming distance, needs only k);
    /// nil: `defaultShortlist(k:)`.
    public var shortlist: Int?
    /// BM25 term-frequency saturation.
    public var k1 = 1.2
    /// BM25 length normalisation (0: none, 1: full).
    public var b = 0.75
    /// Hamming-nearest codes per shortlisted candidate among which the asymmetric score (the
    /// query's logits against the codes' bits) picks the shortlist; 1 keeps the Hamming order.
    /// Used only when the query comes with logits.
    public var asymmetricPool = 4
    /// Whether a text query's shortlist is picked by its logits against the codes' bits
    /// (asymmetric) rather than by Hamming distance alone. A pasted document ranked by BM25 is
    /// shortlisted by Hamming distance either way (`DocumentIndex`).
    public var asymmetric = true
    /// The constant c of reciprocal-rank fusion, score = sum 1 / (c + rank): 60, the value of
    /// Cormack, Clarke and Buettcher (SIGIR 2009), not tuned here.
    public var fusionConstant = 60.0
    /// A longer query (a pasted document, "more like this") keeps its terms of highest
    /// qtf x IDF up to this many: 25, Lucene's MoreLikeThis default, not tuned here.
    public var maxQueryTerms = 25
    /// Pseudo-relevance feedback (RM3) for typed queries (at most `maxQueryTerms` terms) under
    /// `bm25` and `fused`: on by default with Anserini's constants; `.off` turns it off.
    public var feedback = RelevanceFeedback()

    public init(rescoring: Rescoring = .bm25, shortlist: Int? = nil) {
        self.rescoring = rescoring
        self.shortlist = shortlist
    }

    /// 100 candidates per result, at least 1,000 and at most 5,000: the codes must carry the
    /// recall, and the lexical stage's cost stays bounded whatever the index size.
    public static func defaultShortlist(k: Int) -> Int { min(5_000, max(1_000, k.saturatingProduct(100))) }

    /// A typed query's rarest terms bring their documents in as candidates even when the codes
    /// did not choose them (an identifier, a rare word, a word the model never saw): terms in
    /// ascending document frequency, each whole, while the documents they add stay within this
    /// bound (the shortlist's size, so at most twice the shortlist is scored). A pasted document
    /// (more than `maxQueryTerms` terms) gets as many as the answer holds, `k`: its rarest terms
    /// (names, identifiers) find the documents that share them, near-duplicates and other parts
    /// of the same text, while the codes, which rank documents by documents, choose the rest.
    /// Measured on training-side data only, k = 100 (docs/BENCHMARKS.md): 1,500 passages of
    /// general text the default model never saw as queries, the same article's other passages
    /// relevant (`Tools/eval/pasted_passages.py`): MAP 0.718 without the join, 0.790 with k,
    /// 0.795 with the shortlist's 5,000; 1,500 20 Newsgroups train messages against the train
    /// messages, which the model was trained on (`Tools/eval/pasted_queries.py`): label
    /// precision of the hits 0.459, 0.455, 0.424.
    func rareTermBudget(shortlist: Int, k: Int, typed: Bool) -> Int { typed ? shortlist : k }

    /// Whether a query of these terms is typed (at most `maxQueryTerms` distinct terms) rather
    /// than a pasted document.
    package func isTyped(_ terms: [UInt64]) -> Bool { Set(terms).count <= maxQueryTerms }

    /// Whether the codes alone give `query` a second round (`RelevanceFeedback.codeLogits`):
    /// a typed query with logits, feedback on.
    package func feedsBackCodes(_ query: RankedQuery) -> Bool { query.logits != nil && feedback.isOn && isTyped(query.terms) }
}

/// One query for `CodeIndex.rank`.
public struct RankedQuery: Sendable {
    /// The query's code.
    public var code: BinaryCode
    /// The query's logits (one per bit) for the asymmetric score, or nil for Hamming distance.
    public var logits: [Float]?
    /// Term hashes of the query, with repetitions (`TermHash`).
    public var terms: [UInt64]
    /// False when the code carries nothing (no term of the query is known to the model): then
    /// only documents sharing a term are candidates, ordered by BM25.
    public var codeIsInformative: Bool
    /// The words of the code (64 bits each) the Hamming pre-selection counts, and the hits'
    /// distances are over; nil: all. A typed query to a model with query bits counts those
    /// alone (`TextEncoding.rankedQueries`): the trained bits it does not weigh would add
    /// each document's own count of set trained bits to its distance, noise in the order.
    public var countedWords: Range<Int>?

    public init(code: BinaryCode, logits: [Float]? = nil, terms: [UInt64], codeIsInformative: Bool = true,
                countedWords: Range<Int>? = nil) {
        self.code = code
        self.logits = logits
        self.terms = terms
        self.codeIsInformative = codeIsInformative
        self.countedWords = countedWords
    }

    /// The counted words, checked against a code of `words` words; nil when all count.
    /// - Throws: `CodeError.invalidCountedWords`.
    package func counted(words: Int) throws -> Range<Int>? {
        guard let countedWords else { return nil }
        guard !countedWords.isEmpty, countedWords.lowerBound >= 0, countedWords.upperBound <= words else {
            throw CodeError.invalidCountedWords(countedWords, words: words)
        }
        return countedWords == 0 ..< words ? nil : countedWords
    }
}

/// The hits of one query, and how they were found.
public struct RankedResult: Sendable {
    public var hits: [SearchHit]
    /// The lexical stage ran (the index has term statistics and the rescoring asks for them).
    public var usedTerms: Bool
    /// The query's code carried nothing, so the hits are lexical matches alone.
    public var lexicalOnly: Bool
    /// Candidates scored.
    public var candidates: Int

    package init(hits: [SearchHit], usedTerms: Bool, lexicalOnly: Bool, candidates: Int) {
        self.hits = hits
        self.usedTerms = usedTerms
        self.lexicalOnly = lexicalOnly
        self.candidates = candidates
    }
}

extension CodeIndex {
    /// A candidate of the codes' shortlist: its slot, Hamming distance and code score.
    typealias Candidate = (slot: Int, distance: Int, code: Double)

    /// Ranks documents for each query: the codes choose a bounded shortlist (by Hamming distance,
    /// then the asymmetric score when logits are given), documents holding a rare query term
    /// join it, and BM25 over the stored term statistics re-orders it, alone or fused with the
    /// code score (`RankingOptions`). Codes, terms and records come from one read transaction.
    /// Each hit carries its record's fields (`SearchHit.fields`) when `fields` is true.
    /// - Throws: `CodeError.invalidK`, `IndexError.widthMismatch`, `.corrupt`.
    /// - Complexity: one scan (or multi-index probe) of the codes for the batch, then per query
    ///   O(shortlist x asymmetricPool) code scores and O(candidates) term-record reads.
    package func rank(_ queries: [RankedQuery], k: Int, options: RankingOptions = RankingOptions(),
                     search: SearchOptions = SearchOptions(), fields: Bool = false) throws -> [RankedResult] {
        try HammingSearch.check(k: k)
        for q in queries {
            try checkQueries(bits: q.code.bits)
            _ = try q.counted(words: wordsPerCode)
        }
        let shortlist = max(k, options.shortlist ?? RankingOptions.defaultShortlist(k: k))
        let counted = options.rescoring == .none ? nil : try invertedRecords(queries: queries.count, shortlist: shortlist)
        // Large batches run on `search.threads` threads over parts of the queries, each part in
        // its own read transaction (LMDB transactions belong to one thread); a query's codes,
        // terms and records still come from one snapshot. Four parts per thread, taken as threads
        // free up: a part of costly queries (short ones, with a feedback round) no longer keeps
        // one thread busy while the other waits. With a plan report, one thread.
        let workers = search.report == nil ? max(1, min(search.threads, queries.count / 64)) : 1
        let partsCount = workers == 1 ? 1 : min(queries.count, workers * 4)
        var parts = [Result<[RankedResult], Error>](repeating: .success([]), count: partsCount)
        parts.withUnsafeMutableBufferPointer { out in
            let next = NSLock()
            var taken = 0
            var options1 = search
            if workers > 1 { options1.threads = 1 }
            parallelFor(iterations: workers) { _ in
                while true {
                    let w: Int = next.withLock { defer { taken += 1 }; return taken }
                    guard w < partsCount else { return }
                    let range = (queries.count * w / partsCount) ..< (queries.count * (w + 1) / partsCount)
                    out[w] = Result { try rankGroup(Array(queries[range]), k: k, shortlist: shortlist, options: options, search: options1,
                                                         counted: counted, fields: fields) }
                }
            }
        }
        return try parts.flatMap { try $0.get() }
    }

    /// Every term record inverted in memory (`CountedPostings`) for a batch of `queries`
    /// shortlists of `shortlist` candidates, when it pays and fits (`inversionLimits`): nil when
    /// the shortlists cover the documents fewer than `coverage` times, or the postings hold more
    /// entries than `budget`. The parts of the batch use it while their read
    /// transactions see the snapshot it was built from.
    func invertedRecords(queries: Int, shortlist: Int) throws -> CountedPostings? {
        // Not even one document covered that often: no transaction opened (a single query).
        guard queries.saturatingProduct(shortlist) >= inversionLimits.coverage else { return nil }
        return try guarded("read the index") {
            try env.read { txn -> CountedPostings? in
                let total = try storedCount(txn)
                let reader = try TermReader(index: self, txn: txn)
                guard reader.hasTerms, let postings, queries.saturatingProduct(shortlist) >= total.saturatingProduct(inversionLimits.coverage),
                      try txn.entryCount(postings) <= inversionLimits.budget else { return nil }
                return CountedPostings(records: try reader.termRecords(ascendingSlots: Array(0 ..< total)), snapshot: txn.snapshot,
                                       budget: inversionLimits.budget)
            }
        }
    }

    private func rankGroup(_ queries: [RankedQuery], k: Int, shortlist: Int, options: RankingOptions,
                           search: SearchOptions, counted: CountedPostings?, fields: Bool) throws -> [RankedResult] {
        try withCodeBlocks { codes, txn in
            let reader = try TermReader(index: self, txn: txn)
            let lexical = options.rescoring != .none && reader.hasTerms
            // The codes choose the same shortlist under every rescoring: `none` orders it by the
            // code score alone (so each stage can be measured on the same candidates). Only the
            // Hamming order needs no more than k; the asymmetric score picks from `asymmetricPool`
            // times as many. Each query asks for its own depth (a query without logits in a batch
            // of queries with them needs no more than the shortlist: the Hamming order is a strict
            // one, by distance then slot, so the first of a longer list are the same).
            func depth(_ q: RankedQuery) -> Int {
                q.logits == nil ? (lexical ? shortlist : k) : shortlist.saturatingProduct(max(1, options.asymmetricPool))
            }
            let deepest = queries.reduce(1) { max($0, depth($1)) }
            // Queries go through in chunks whose neighbour lists stay within about 4M entries
            // (64 MB): a batch of 7,532 long queries at k = 100 asked for 20,000 neighbours each
            // at once, 1.2 GB per thread. Each chunk is still one batched Hamming pass. With a
            // plan report (which keeps one pass's plans), one chunk.
            let chunk = search.report != nil ? max(1, queries.count) : max(1, min(queries.count, 4_000_000 / deepest))
            // The batch's records inverted in memory, when `rank` built them from the snapshot
            // this transaction reads. Without them, a part that will read more term records than
            // the index holds (a shortlist per query) reads each record once, up front, in slot
            // order: pointers into the map, valid while this read transaction lives. Same
            // records, same scores, either way.
            var terms = counted.flatMap { lexical && $0.snapshot == txn.snapshot && $0.slotCount == codes.count ? BatchTerms(postings: $0) : nil }
            let everyRecord = lexical && terms == nil && queries.count.saturatingProduct(shortlist) >= codes.count
                ? try reader.termRecords(ascendingSlots: Array(0 ..< codes.count)) : nil
            var out: [RankedResult] = []
            out.reserveCapacity(queries.count)
            for start in stride(from: 0, to: queries.count, by: chunk) {
                let range = start ..< min(queries.count, start + chunk)
                let informative = range.filter { queries[$0].codeIsInformative || !lexical }
                var nearest: [Int: [Neighbor]] = [:]
                // One Hamming pass per set of counted words (all of them, or a typed query's
                // query bits) and depth, in order of first appearance.
                var groups: [(counted: Range<Int>?, depth: Int, queries: [Int])] = []
                for q in informative {
                    let counted = try queries[q].counted(words: wordsPerCode), d = depth(queries[q])
                    if let g = groups.firstIndex(where: { $0.counted == counted && $0.depth == d }) { groups[g].queries.append(q) }
                    else { groups.append((counted, d, [q])) }
                }
                for group in groups {
                    let matrix = try CodeMatrix(bits: bits, words: group.queries.flatMap { queries[$0].code.words })
                    let found = try nearestNeighbors(matrix, k: group.depth, options: search, codes: codes, txn: txn, counted: group.counted)
                    for (row, q) in group.queries.enumerated() { nearest[q] = found[row] }
                }
                for q in range {
                    out.append(try rankOne(queries[q], nearest: nearest[q] ?? [], k: k, shortlist: shortlist, lexical: lexical,
                                           options: options, codes: codes, reader: reader, everyRecord: everyRecord, terms: &terms,
                                           txn: txn, fields: fields))
                }
            }
            return out
        }
    }

    private func rankOne(_ query: RankedQuery, nearest: [Neighbor], k: Int, shortlist: Int, lexical: Bool,
                         options: RankingOptions, codes: SlotCodes, reader: TermReader, everyRecord: [UnsafeRawBufferPointer?]?,
                         terms: inout BatchTerms?, txn: LMDBTransaction, fields: Bool) throws -> RankedResult {
        let scorer = query.logits.map { AsymmetricScorer(logits: $0) }
        let queryWords = query.code.words
        let counted = try query.counted(words: wordsPerCode) ?? 0 ..< wordsPerCode
        func distance(_ slot: Int) -> Int {
            let p = codes.pointer(slot)
            var d = 0
            for w in counted { d += (p[w] ^ queryWords[w]).nonzeroBitCount }
            return d
        }
        func codeScore(_ slot: Int, _ d: Int) -> Double {
            scorer.map { Double($0.score(codes.pointer(slot))) } ?? -Double(d)
        }
        // The codes' shortlist by the code score (ties: distance, slot): best first for the codes
        // alone; for the lexical stage, which puts its candidates in slot order, the set alone.
        var chosen = nearest.map { (slot: $0.id, distance: $0.distance, code: codeScore($0.id, $0.distance)) }
        let considered = chosen.count
        // The unit of the code feedback's weights: the spread of the first round's scores.
        let spread = !lexical && options.feedsBackCodes(query) ? RelevanceFeedback.spread(chosen.lazy.map(\.code)) : 0
        if scorer != nil {
            // Only the best `k` (codes alone) or `shortlist` (the lexical stage's candidates)
            // are needed: selected, not the whole pool sorted.
            let order: (Candidate, Candidate) -> Bool = { ($0.code, -$0.distance, -$0.slot) > ($1.code, -$1.distance, -$1.slot) }
            chosen = lexical ? chosen.best(shortlist, by: order) : chosen.sortedPrefix(k, by: order)
        }
        let lexicalOnly = lexical && !query.codeIsInformative
        if !lexical {
            // A typed query's second round: the first round's best codes feed the query
            // (`RelevanceFeedback.codeLogits`), and the same pool is scored again.
            if options.feedsBackCodes(query), let logits = query.logits,
               let mixed = options.feedback.codeLogits(logits, feedback: chosen.prefix(options.feedback.documents).map {
                   (code: Array(UnsafeBufferPointer(start: codes.pointer($0.slot), count: wordsPerCode)), score: $0.code) },
                   spread: spread) {
                let second = AsymmetricScorer(logits: mixed)
                chosen = nearest.map { (slot: $0.id, distance: $0.distance, code: Double(second.score(codes.pointer($0.id)))) }
                    .sortedPrefix(k) { ($0.code, -$0.distance, -$0.slot) > ($1.code, -$1.distance, -$1.slot) }
            }
            let top = chosen.prefix(k)
            return RankedResult(hits: try top.map { try hit(txn, slot: $0.slot, distance: $0.distance, score: $0.code, fields: fields) },
                                usedTerms: false, lexicalOnly: false, candidates: considered)
        }
        chosen = Array(chosen.prefix(shortlist))

        // The query's terms, weighted by IDF (a pasted document's cut to its strongest), and the
        // documents holding its rarest terms.
        let query = try LexicalQuery(terms: query.terms, documents: reader.statistics.documents, options: options,
                                     documentFrequencies: reader.documentFrequencies)
        var joined: [Int] = []
        for h in query.rareTerms(shortlist: shortlist, k: k, options: options) {
            // A damaged posting could name a slot past the codes: only slots that exist count.
            joined += try reader.slots(h).lazy.filter { $0 < codes.count }
        }
        // The candidates ascending by slot (the shortlist's and the joined ones, once each), and
        // for each its (distance, code score) when the shortlist brought it: sorted arrays merged,
        // no hashing.
        let shortlisted = Self.sortedBySlot(chosen)
        joined.sort()
        var ascending: [Int] = [], fromCodes: [(distance: Int, code: Double)?] = []
        ascending.reserveCapacity(shortlisted.count + joined.count)
        fromCodes.reserveCapacity(shortlisted.count + joined.count)
        var a = 0, j = 0
        while a < shortlisted.count || j < joined.count {
            if j == joined.count || (a < shortlisted.count && shortlisted[a].slot <= joined[j]) {
                let c = shortlisted[a]
                ascending.append(c.slot); fromCodes.append((c.distance, c.code))
                while j < joined.count && joined[j] == c.slot { j += 1 }
                a += 1
            } else {
                let slot = joined[j]
                ascending.append(slot); fromCodes.append(nil)
                while j < joined.count && joined[j] == slot { j += 1 }
            }
        }
        // BM25 of every candidate; the code score for those the shortlist did not bring.
        let averageLength = reader.statistics.averageLength
        let scorer25 = query.scorer(options, averageLength: averageLength)
        var scored: [Candidate] = []
        var bm25: [Double] = []
        scored.reserveCapacity(ascending.count)
        // Each candidate's term record, kept for the feedback round (borrowed from the map, valid
        // while the read transaction lives).
        var records: [UnsafeRawBufferPointer?] = []
        records.reserveCapacity(ascending.count)
        let stored: [UnsafeRawBufferPointer?]
        var sums: [Double]?
        if terms != nil {
            // The batch's inverted records: each term's postings with its counts, no record read
            // (the feedback round reads its few documents' records itself).
            stored = []
            sums = terms!.sums(scorer25, candidates: ascending)
        } else if !query.typed && !query.weighted.isEmpty && query.weighted.count.saturatingProduct(reader.partitions) < ascending.count {
            // A pasted document (no feedback round follows) against many candidates, term at a
            // time: each kept term's postings name the candidates holding it, and only those
            // records are read, for that term's count (a binary search) and their length. A
            // candidate's terms are added in ascending hash order, as `BM25.score` adds them, so
            // the scores are the same to the last bit; the candidates holding none of the terms
            // (most of them) are not read at all. (Typed queries term at a time too, their
            // feedback round included, measured no faster on the 20 Newsgroups batch, and at a
            // million documents their common expansion terms' postings are long.)
            (stored, sums) = try scoreTermAtATime(scorer25, candidates: ascending, reader: reader, everyRecord: everyRecord)
        } else {
            stored = query.weighted.isEmpty ? ascending.map { _ in nil }
                : try everyRecord.map { all in ascending.map { all[$0] } } ?? reader.termRecords(ascendingSlots: ascending)
        }
        if sums == nil { sums = scorer25.scores(stored) }
        for (i, slot) in ascending.enumerated() {
            let record = stored.isEmpty ? nil : stored[i]
            let score = sums?[i] ?? 0
            if lexicalOnly && score == 0 { continue }
            let (d, c) = fromCodes[i] ?? { let d = distance(slot); return (d, codeScore(slot, d)) }()
            scored.append((slot, d, c))
            bm25.append(score)
            if !stored.isEmpty { records.append(record) }
        }
        let slots = scored.map(\.slot)
        if query.wantsFeedback(options) {
            // The second round: RM3 over the first round's best documents, every candidate
            // scored again by BM25 of the expanded query.
            let expansion = terms == nil ? query.expansion(options, bm25: bm25, tiebreak: slots, records: records)
                : try query.expansion(options, bm25: bm25, tiebreak: slots) { try reader.termRecord(slot: slots[$0]) }
            if !expansion.isEmpty {
                let new = try reader.documentFrequencies(query.unknownTerms(of: expansion))
                if terms != nil {
                    let expanded = query.feedbackScorer(options, expansion: expansion, newFrequencies: new, averageLength: averageLength)
                    bm25 = terms!.sums(expanded, candidates: slots)
                } else {
                    bm25 = query.feedbackScores(records, options: options, expansion: expansion, newFrequencies: new, averageLength: averageLength)
                }
            }
        }
        let order = LexicalQuery.order(code: scored.map(\.code), bm25: bm25, tiebreak: slots, k: k, options: options, lexicalOnly: lexicalOnly)
        let hits = try order.map { (i, score) in
            try hit(txn, slot: scored[i].slot, distance: scored[i].distance, score: score, bm25: bm25[i], fields: fields)
        }
        return RankedResult(hits: hits, usedTerms: true, lexicalOnly: lexicalOnly, candidates: scored.count)
    }

    /// BM25 of `candidates` (ascending slots) term at a time over the postings of `scorer`'s
    /// terms: the sums, and the records read (nil for a candidate holding none of the terms).
    private func scoreTermAtATime(_ scorer: BM25, candidates: [Int], reader: TermReader,
                                  everyRecord: [UnsafeRawBufferPointer?]?) throws -> ([UnsafeRawBufferPointer?], [Double]) {
        var sums = [Double](repeating: 0, count: candidates.count)
        var records = [UnsafeRawBufferPointer?](repeating: nil, count: candidates.count)
        var read = [Bool](repeating: false, count: candidates.count)
        // Where the previous (smaller) term was looked for in each candidate's record: terms come
        // in ascending order, so each search starts there.
        var from = [Int32](repeating: 0, count: candidates.count)
        var matches: [Int] = []
        func record(_ i: Int) throws -> UnsafeRawBufferPointer? {
            if !read[i] {
                // A damaged posting may name a slot past the records: `candidates` holds only
                // slots that exist, and only candidates get here.
                records[i] = try everyRecord.map { $0[candidates[i]] } ?? reader.termRecord(slot: candidates[i])
                read[i] = true
            }
            return records[i]
        }
        for (hash, weight) in scorer.terms {
            // The candidates holding the term: its postings ascend by slot, as the candidates
            // do, each found by galloping from the previous one's place. No record is read here.
            matches.removeAll(keepingCapacity: true)
            var lo = 0
            for slot in try reader.slots(hash) {
                lo = gallop(from: lo, to: candidates.count) { candidates[$0] < slot }
                guard lo < candidates.count else { break }
                if candidates[lo] == slot { matches.append(lo); lo += 1 }
            }
            // Their records, each fetched a few matches ahead of its binary search (the header
            // and the lines of the search's first probes: the records lie all over the map, and
            // the loads wait on memory otherwise). Only matches are fetched, not every posting;
            // fetching whole records measured slower (docs/BENCHMARKS.md).
            for (m, i) in matches.enumerated() {
                if m + Self.recordLookahead < matches.count, let ahead = try record(matches[m + Self.recordLookahead]) {
                    StoredTerms.prefetchSearch(ahead)
                }
                if let raw = try record(i) { sums[i] += scorer.contribution(of: hash, weight: weight, in: raw, from: &from[i]) }
            }
        }
        return (records, sums)
    }

    /// `chosen` ascending by slot (slots are unique), by a least-significant-digit radix sort of
    /// the slots (8 bits a pass, as many passes as the largest slot needs): the same order as
    /// sorting the tuples by slot. The comparison sort it replaces was 5% of the 20 Newsgroups
    /// batch in `perf` (a 24-byte move and a closure call per step; on integer keys, still 4.7%).
    static func sortedBySlot(_ chosen: [Candidate]) -> [Candidate] {
        guard chosen.count > 1 else { return chosen }
        var largest = 0
        for c in chosen {
            guard c.slot >= 0 && c.slot < 1 << 32 && chosen.count < 1 << 32 else { return chosen.sorted { $0.slot < $1.slot } }
            largest = max(largest, c.slot)
        }
        // Keys: the slot above, the position in `chosen` below.
        var keys = chosen.indices.map { UInt64($0) | UInt64(chosen[$0].slot) << 32 }
        var spare = [UInt64](repeating: 0, count: keys.count)
        var shift: UInt64 = 32
        var counts = [Int](repeating: 0, count: 257)
        while shift < 64 && (UInt64(largest) << 32) >> shift != 0 {
            for d in counts.indices { counts[d] = 0 }
            for key in keys { counts[Int((key >> shift) & 0xFF) + 1] += 1 }
            for d in 1 ..< 257 { counts[d] += counts[d - 1] }
            for key in keys {
                let d = Int((key >> shift) & 0xFF)
                spare[counts[d]] = key
                counts[d] += 1
            }
            swap(&keys, &spare)
            shift += 8
        }
        return keys.map { chosen[Int($0 & 0xFFFF_FFFF)] }
    }

    /// Matches ahead of the one scored whose records `scoreTermAtATime` prefetches.
    private static let recordLookahead = 4
}
