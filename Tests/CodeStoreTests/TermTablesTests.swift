import BinaryCodes
import CLMDB
@testable import CodeStore
import Foundation
import TestSupport
import Testing

/// The lexical stage's tables stay in step with the codes through adds, replacements and
/// removals (which move the last slot), and BM25 over a full shortlist is exhaustive BM25.
@Suite struct TermTablesTests {
    /// Documents of words from a small pool, seeded.
    static func documents(_ n: Int, seed: UInt64) -> [[UInt64]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in (0 ..< 1 + Int(rng.next() % 12)).map { _ in 1 + rng.next() % 30 } }
    }

    /// A new index holding `documents` as "d0", "d1", ... with random codes.
    static func index(in dir: TemporaryDirectory, bits: Int, documents: [[UInt64]], rng: inout SeededGenerator) throws -> CodeIndex {
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: bits)
        try index.add(try documents.enumerated().map { i, t in
            IndexEntry(id: "d\(i)", code: try BinaryCode.random(bits: bits, using: &rng), terms: TermCounts(terms: t))
        })
        return index
    }

    /// Postings and statistics rebuilt from the term records alone must equal the tables.
    func expectConsistent(_ index: CodeIndex, expected: [String: [UInt64]], withoutTerms: Set<String> = []) throws {
        let stats = try index.termStatistics()
        #expect(stats.documents == expected.count)
        #expect(stats.totalLength == expected.values.reduce(0) { $0 + $1.count })
        var slotOf: [String: Int] = [:]
        try index.withCodeBlocks { _, txn in
            for s in 0 ..< (try index.storedCount(txn)) { slotOf[try index.readID(txn: txn, slot: s)!] = s }
        }
        #expect(Set(slotOf.keys) == Set(expected.keys).union(withoutTerms))
        try index.withTermReader { reader throws in
            for term in UInt64(1)...30 {
                let holders = expected.filter { $0.value.contains(term) }.keys.compactMap { slotOf[$0] }.sorted()
                #expect(try reader.slots(term) == holders, "term \(term)")
                #expect(try reader.documentFrequency(term) == holders.count)
            }
            for (id, terms) in expected {
                #expect(try reader.terms(slot: slotOf[id]!) == TermCounts(terms: terms), "\(id)")
            }
        }
    }

    @Test func tablesFollowAddsReplacementsAndRemovals() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 64)
        var rng = SeededGenerator(seed: 3)
        let docs = Self.documents(60, seed: 4)
        var expected: [String: [UInt64]] = [:]
        let entries = try docs.enumerated().map { i, terms -> IndexEntry in
            expected["d\(i)"] = terms
            return IndexEntry(id: "d\(i)", code: try BinaryCode.random(bits: 64, using: &rng), terms: TermCounts(terms: terms))
        }
        try index.add(entries)
        try expectConsistent(index, expected: expected)
        // Replace some (new terms), and one without terms at all.
        let newTerms = Self.documents(10, seed: 5)
        try index.add((0..<10).map { j in
            expected["d\(j * 5)"] = newTerms[j]
            return IndexEntry(id: "d\(j * 5)", code: try BinaryCode.random(bits: 64, using: &rng), terms: TermCounts(terms: newTerms[j]))
        } + [IndexEntry(id: "d1", code: try BinaryCode.random(bits: 64, using: &rng))])
        expected["d1"] = nil
        try expectConsistent(index, expected: expected, withoutTerms: ["d1"])
        // Remove from the middle and the end: the last slots move into the holes.
        try index.remove(ids: ["d3", "d59", "d20", "d0"])
        for id in ["d3", "d59", "d20", "d0"] { expected[id] = nil }
        try expectConsistent(index, expected: expected, withoutTerms: ["d1"])
        try index.remove(ids: ["d1"])
        try expectConsistent(index, expected: expected)
    }

    @Test func bm25OverTheWholeIndexIsExhaustiveBM25() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var rng = SeededGenerator(seed: 8)
        let docs = Self.documents(80, seed: 9)
        let index = try Self.index(in: dir, bits: 32, documents: docs, rng: &rng)
        let query: [UInt64] = [3, 3, 17, 29, 999]
        // Plain BM25 (k1 1.2, b 0.75), every document scored, in Double.
        let n = Double(docs.count), avg = Double(docs.reduce(0) { $0 + $1.count }) / n
        let scores = docs.map { d -> Double in
            var s = 0.0
            for (t, qtf) in Dictionary(query.map { ($0, 1) }, uniquingKeysWith: +) {
                let df = Double(docs.filter { $0.contains(t) }.count)
                guard df > 0 else { continue }
                let tf = Double(d.filter { $0 == t }.count)
                s += Double(qtf) * log(1 + (n - df + 0.5) / (df + 0.5)) * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * Double(d.count) / avg))
            }
            return s
        }
        var options = RankingOptions(rescoring: .bm25, shortlist: 1000)
        options.asymmetric = false
        options.feedback = .off
        let result = try index.rank([RankedQuery(code: try BinaryCode.random(bits: 32, using: &rng), terms: query)], k: 10, options: options)[0]
        #expect(result.usedTerms && !result.lexicalOnly)
        let expectedTop = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(10)
        for (hit, i) in zip(result.hits, expectedTop) {
            #expect(abs(hit.bm25! - scores[i]) < 1e-9, "\(hit.id)")
            #expect(abs(try #require(hit.score) - scores[Int(hit.id.dropFirst())!]) < 1e-9)
        }
        #expect(result.hits.map { scores[Int($0.id.dropFirst())!] } == expectedTop.map { scores[$0] })
    }

    /// Format 4 kept no `termdf`: such an index opened read-only counts document frequencies
    /// from the postings; opened for writing it gets the table, counted from the postings in
    /// the upgrade, and `checkConsistency` then holds it against the term records (a wrong
    /// entry is a problem).
    @Test func documentFrequenciesOfAFormatFourIndexAreCountedAndKept() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var rng = SeededGenerator(seed: 41)
        let docs = Self.documents(5000, seed: 42)  // two postings partitions
        let path = dir.appending("idx")
        do {
            let index = try Self.index(in: dir, bits: 32, documents: docs, rng: &rng)
            try index.env.write { txn in
                try check(mdb_drop(txn.handle, index.frequencies!.dbi, 1), "mdb_drop")
                try txn.put(index.meta, key: Array("format".utf8), bytes: le(UInt32(4)))
            }
        }
        let expected = Dictionary(uniqueKeysWithValues: docs.indices.map { ("d\($0)", docs[$0]) })
        let old = try CodeIndex.open(at: path, readOnly: true)
        #expect(old.frequencies == nil)
        try expectConsistent(old, expected: expected)
        let upgraded = try CodeIndex.open(at: path)
        #expect(upgraded.frequencies != nil)
        let format = try upgraded.env.read { txn in try txn.get(upgraded.meta, key: Array("format".utf8)).flatMap { loadLE($0, as: UInt32.self) } }
        #expect(format == 5)
        try expectConsistent(upgraded, expected: expected)
        #expect(try upgraded.checkConsistency().isConsistent)
        // Writes after the upgrade keep the table in step.
        try upgraded.remove(ids: ["d0", "d4999"])
        var left = expected
        left["d0"] = nil; left["d4999"] = nil
        try expectConsistent(upgraded, expected: left)
        #expect(try upgraded.checkConsistency().isConsistent)
        try upgraded.env.write { txn in try txn.put(upgraded.frequencies!, key: be(UInt64(3)), bytes: le(UInt32(1))) }
        let report = try upgraded.checkConsistency()
        #expect(report.problems.contains { $0.hasPrefix("document frequencies: 1 of") }, "\(report.problems)")
    }

    /// Plain BM25 (k1 1.2, b 0.75) of every document for weighted query terms, in Double.
    static func bm25(_ docs: [[UInt64]], _ weights: [UInt64: Double]) -> [Double] {
        let n = Double(docs.count), avg = Double(docs.reduce(0) { $0 + $1.count }) / n
        return docs.map { d in
            var s = 0.0
            for (t, w) in weights.sorted(by: { $0.key < $1.key }) {
                let df = Double(docs.filter { $0.contains(t) }.count)
                guard df > 0 else { continue }
                let tf = Double(d.filter { $0 == t }.count)
                s += w * log(1 + (n - df + 0.5) / (df + 0.5)) * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * Double(d.count) / avg))
            }
            return s
        }
    }

    /// With feedback on (the default), a typed query's order is BM25 of the RM3-expanded query:
    /// the first round's 10 best documents, each term's count over the document's length
    /// weighted by exp(the document's score - the best score), the 10 strongest terms, mixed
    /// half and half with the query's own term shares. Written out here independently of
    /// `RelevanceFeedback`.
    @Test func feedbackIsRM3OverTheFirstRound() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var rng = SeededGenerator(seed: 31)
        let docs = Self.documents(120, seed: 32)
        let index = try Self.index(in: dir, bits: 32, documents: docs, rng: &rng)
        let query: [UInt64] = [5, 5, 11, 999]
        let counts = Dictionary(query.filter { t in docs.contains { $0.contains(t) } }.map { ($0, 1) }, uniquingKeysWith: +)
        let first = Self.bm25(docs, counts.mapValues(Double.init))
        let best = first.indices.filter { first[$0] > 0 }.sorted { (first[$0], -$0) > (first[$1], -$1) }.prefix(10)
        var model: [UInt64: Double] = [:]
        let top = first[best.first!]
        for d in best {
            for (t, c) in Dictionary(docs[d].map { ($0, 1) }, uniquingKeysWith: +).sorted(by: { $0.key < $1.key }) {
                model[t, default: 0] += exp(first[d] - top) * Double(c) / Double(docs[d].count)
            }
        }
        let kept = model.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(10)
        let modelTotal = kept.reduce(0) { $0 + $1.value }
        let queryTotal = Double(counts.values.reduce(0, +))
        var expanded = counts.mapValues { 0.5 * Double($0) / queryTotal }
        for (t, v) in kept { expanded[t, default: 0] += 0.5 * v / modelTotal }
        let second = Self.bm25(docs, expanded)

        var options = RankingOptions(rescoring: .bm25, shortlist: 1000)
        options.asymmetric = false
        let result = try index.rank([RankedQuery(code: try BinaryCode.random(bits: 32, using: &rng), terms: query)], k: 15, options: options)[0]
        let expectedTop = second.indices.sorted { (second[$0], -$0) > (second[$1], -$1) }.prefix(15)
        #expect(result.hits.count == 15)
        for (hit, i) in zip(result.hits, expectedTop) {
            #expect(abs(hit.bm25! - second[Int(hit.id.dropFirst())!]) < 1e-9, "\(hit.id)")
            #expect(abs(hit.bm25! - second[i]) < 1e-9, "\(hit.id) in place of d\(i)")
        }
        // The expansion changed the order (else this test would not tell feedback from none),
        // and documents without any query term now score above 0.
        let firstTop = first.indices.sorted { (first[$0], -$0) > (first[$1], -$1) }.prefix(15)
        #expect(Array(firstTop) != Array(expectedTop))
        let all = try index.rank([RankedQuery(code: try BinaryCode.random(bits: 32, using: &rng), terms: query)], k: docs.count, options: options)[0]
        #expect(all.hits.contains { hit in hit.bm25! > 0 && !docs[Int(hit.id.dropFirst())!].contains { counts[$0] != nil } })
        // A query of more than `maxQueryTerms` terms (a pasted document) keeps its strongest
        // terms and is not expanded: its BM25 scores are those of the cut query alone.
        options.maxQueryTerms = 1
        let n = Double(docs.count)
        func weight(_ t: UInt64) -> Double {
            let df = Double(docs.filter { $0.contains(t) }.count)
            return Double(counts[t]!) * log(1 + (n - df + 0.5) / (df + 0.5))
        }
        let strongest = try #require(counts.keys.max { (weight($0), $0) < (weight($1), $1) })
        let plain = Self.bm25(docs, [strongest: Double(counts[strongest]!)])
        let long = try index.rank([RankedQuery(code: try BinaryCode.random(bits: 32, using: &rng), terms: query)], k: 15, options: options)[0]
        let positive = long.hits.compactMap(\.bm25).filter { $0 > 0 }
        #expect(!positive.isEmpty)
        let expectedPositive = plain.filter { $0 > 0 }.sorted(by: >).prefix(positive.count)
        #expect(zip(positive, expectedPositive).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    /// Documents holding a query's rarest terms join the codes' shortlist: for a typed query up
    /// to the shortlist's size, for a pasted document (more than `maxQueryTerms` terms) up to k,
    /// whole terms in ascending document frequency.
    @Test func rareTermsJoinTheShortlistWithinTheirBudget() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var rng = SeededGenerator(seed: 31)
        var docs = Self.documents(200, seed: 32)
        docs[150] += [5000]                                   // df 1
        for i in 10..<15 { docs[i] += [6000] }                // df 5
        let index = try Self.index(in: dir, bits: 64, documents: docs, rng: &rng)
        let query = try BinaryCode.random(bits: 64, using: &rng)
        var options = RankingOptions(rescoring: .bm25, shortlist: 20)
        options.asymmetric = false
        options.feedback = .off
        // The codes' shortlist on its own: the 20 Hamming-nearest.
        let alone = try index.rank([RankedQuery(code: query, terms: [])], k: 20, options: RankingOptions(rescoring: .none))[0]
        let shortlist = Set(alone.hits.map(\.id))
        func expected(_ joined: [Int]) -> Int { shortlist.union(joined.map { "d\($0)" }).count }

        // Typed (2 terms): both rare terms join (1 + 5 documents within the budget of 20).
        let typed = try index.rank([RankedQuery(code: query, terms: [5000, 6000])], k: 3, options: options)[0]
        #expect(typed.candidates == expected([150, 10, 11, 12, 13, 14]), "\(typed.candidates)")
        #expect(typed.hits.first?.id == "d150")
        // Pasted (more terms than kept): k = 3 lets the term of df 1 in, not the one of df 5.
        options.maxQueryTerms = 2
        let pasted = try index.rank([RankedQuery(code: query, terms: [5000, 6000, 1, 2, 3])], k: 3, options: options)[0]
        #expect(pasted.candidates == expected([150]), "\(pasted.candidates)")
        #expect(pasted.hits.first?.id == "d150")
        // k = 6 lets both in.
        let wider = try index.rank([RankedQuery(code: query, terms: [5000, 6000, 1, 2, 3])], k: 6, options: options)[0]
        #expect(wider.candidates == expected([150, 10, 11, 12, 13, 14]), "\(wider.candidates)")
    }

    /// The codes alone with feedback (the default for a typed query with logits): Rocchio in
    /// code space, written out here independently of `RelevanceFeedback.codeLogits`. The first
    /// round's 10 best codes (asymmetric score) are averaged as +-1 over the bits the query
    /// weighs (non-zero logits), each weighted by exp((score - best) / σ), σ the standard
    /// deviation of the first round's scores over the pool, and half the unit query plus half
    /// the unit centroid scores the same pool again. The uniform average (the form before) gives
    /// another order here, so the test tells the two apart.
    @Test func codesAloneFeedBackTheFirstRoundsBestCodes() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var rng = SeededGenerator(seed: 51)
        let docs = Self.documents(80, seed: 52)
        let index = try Self.index(in: dir, bits: 64, documents: docs, rng: &rng)
        // Added in order, so slot i holds "di".
        let stored = try index.withCodeBlocks { _, txn in try (0..<80).map { try index.readID(txn: txn, slot: $0) } }
        #expect(stored == (0..<80).map { "d\($0)" })
        let codes = try (0..<80).map { try #require(try index.code(for: "d\($0)")) }
        // Bits 0 to 15 weigh nothing (as the trained bits of a typed query with query bits).
        let logits = (0..<64).map { $0 < 16 ? Float(0) : Float(Int(rng.next() % 2001) - 1000) / 1000 }
        let query = RankedQuery(code: try BinaryCode.random(bits: 64, using: &rng), logits: logits, terms: [3, 4])
        func score(_ weights: [Float], _ code: BinaryCode) -> Float {
            (0..<64).reduce(Float(0)) { $0 + weights[$1] * (code[bit: $1] ? 1 : -1) }
        }
        func order(_ weights: [Float]) -> [Int] { (0..<80).sorted { (score(weights, codes[$0]), $1) > (score(weights, codes[$1]), $0) } }
        let first = order(logits)
        let scores = (0..<80).map { Double(score(logits, codes[$0])) }
        let mean = scores.reduce(0, +) / 80
        let sigma = (scores.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 80).squareRoot()
        func secondRound(weighted: Bool) -> [Int] {
            var centroid = [Float](repeating: 0, count: 64)
            for slot in first.prefix(10) {
                let w = weighted ? Float(exp((scores[slot] - scores[first[0]]) / sigma)) : 1
                for b in 16..<64 { centroid[b] += codes[slot][bit: b] ? w : -w }
            }
            let qn = sqrt(logits.reduce(0) { $0 + $1 * $1 }), cn = sqrt(centroid.reduce(0) { $0 + $1 * $1 })
            return order((0..<64).map { 0.5 * logits[$0] / qn + 0.5 * centroid[$0] / cn })
        }
        let second = secondRound(weighted: true)

        var options = RankingOptions(rescoring: .none)
        options.asymmetricPool = 4                                // the default shortlist x 4: the whole index is the pool
        let fed = try index.rank([query], k: 20, options: options)[0]
        options.feedback = .off
        let plain = try index.rank([query], k: 20, options: options)[0]
        let ids = { (slots: [Int]) in slots.prefix(20).map { "d\($0)" } }
        #expect(plain.hits.map(\.id) == ids(first))
        #expect(fed.hits.map(\.id) == ids(second))
        #expect(ids(first) != ids(second))                      // else this test could not tell them apart
        #expect(ids(secondRound(weighted: false)) != ids(second)) // nor the weighting from a plain average
        // A pasted query (more than maxQueryTerms terms) gets no second round.
        options.feedback = RelevanceFeedback()
        options.maxQueryTerms = 1
        #expect(try index.rank([query], k: 20, options: options)[0].hits.map(\.id) == ids(first))
    }

    /// A query that counts part of the code (`countedWords`, as a typed query counts a text
    /// model's query bits) is pre-selected and given distances by those words alone, in a batch
    /// beside queries that count every word, and under each rescoring.
    @Test func countedWordsAloneChooseTheShortlistAndTheDistances() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var rng = SeededGenerator(seed: 61)
        let docs = Self.documents(200, seed: 62)
        let index = try Self.index(in: dir, bits: 128, documents: docs, rng: &rng)
        let codes = try (0..<200).map { try #require(try index.code(for: "d\($0)")) }
        let matrix = try CodeMatrix(bits: 128, words: codes.flatMap(\.words))
        let code = try BinaryCode.random(bits: 128, using: &rng)
        func countedDistance(_ slot: Int) -> Int { (64..<128).filter { code[bit: $0] != codes[slot][bit: $0] }.count }
        // Bits 0 to 63 weigh nothing in the asymmetric score.
        let logits = (0..<128).map { $0 < 64 ? Float(0) : Float(Int(rng.next() % 2001) - 1000) / 1000 }
        func score(_ slot: Int) -> Float { (0..<128).reduce(Float(0)) { $0 + logits[$1] * (codes[slot][bit: $1] ? 1 : -1) } }

        var options = RankingOptions(rescoring: .none)
        options.feedback = .off
        options.asymmetricPool = 4
        // Hamming alone: the reference over the counted words, ties by slot.
        let counted = RankedQuery(code: code, terms: [3], countedWords: 1 ..< 2)
        let whole = RankedQuery(code: code, terms: [3])
        let both = try index.rank([counted, whole, counted], k: 10, options: options)
        let expected = HammingReference.nearest(to: code, in: matrix, k: 10, countedWords: 1 ..< 2)
        #expect(both[0].hits.map(\.id) == expected.map { "d\($0.id)" })
        #expect(both[0].hits.map(\.distance) == expected.map(\.distance))
        #expect(both[2].hits.map(\.id) == both[0].hits.map(\.id))
        let all = HammingReference.nearest(to: code, in: matrix, k: 10)
        #expect(both[1].hits.map(\.id) == all.map { "d\($0.id)" })
        #expect(expected.map(\.id) != all.map(\.id))                 // else this test could not tell them apart

        // With logits: the shortlist's 10 x 4 nearest by the counted words, ordered by the
        // asymmetric score.
        options.shortlist = 10
        let pool = HammingReference.nearest(to: code, in: matrix, k: 40, countedWords: 1 ..< 2).map(\.id)
        let best = pool.sorted { (score($0), -countedDistance($0), -$0) > (score($1), -countedDistance($1), -$1) }.prefix(10)
        let asymmetric = try index.rank([RankedQuery(code: code, logits: logits, terms: [3], countedWords: 1 ..< 2)], k: 10, options: options)[0]
        #expect(asymmetric.hits.map(\.id) == best.map { "d\($0)" })
        #expect(asymmetric.hits.map(\.distance) == best.map(countedDistance))

        // BM25 over the shortlist and the joined documents: every distance is over the counted words.
        for rescoring in [Rescoring.bm25, .fused] {
            options.rescoring = rescoring
            options.shortlist = 20
            let ranked = try index.rank([RankedQuery(code: code, logits: logits, terms: [3, 7], countedWords: 1 ..< 2)], k: 10, options: options)[0]
            #expect(ranked.hits.count == 10)
            for hit in ranked.hits { #expect(hit.distance == countedDistance(Int(hit.id.dropFirst())!), "\(hit.id)") }
        }

        // Words outside the code are refused, naming the range.
        for bad in [1 ..< 3, 2 ..< 2] {
            #expect(throws: CodeError.invalidCountedWords(bad, words: 2)) {
                try index.rank([RankedQuery(code: code, terms: [3], countedWords: bad)], k: 10, options: options)
            }
        }
    }

    /// A batch whose shortlists together cover the index inverts every term record once, in
    /// memory (`CountedPostings`), or, past its budget, reads every record once up front; a
    /// smaller one looks each candidate's record up: the same hits, scores and candidates all
    /// three ways, for typed queries (with their feedback round) and pasted ones (term at a time).
    @Test func recordsInvertedReadUpFrontOrOneByOneGiveTheSameRanking() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var rng = SeededGenerator(seed: 41)
        let docs = Self.documents(300, seed: 42)
        let index = try Self.index(in: dir, bits: 64, documents: docs, rng: &rng)
        var queries: [RankedQuery] = []
        for q in 0..<12 {
            let terms: [UInt64] = [UInt64(1 + q % 30), UInt64(1 + (q * 7) % 30), 5]
            queries.append(RankedQuery(code: try BinaryCode.random(bits: 64, using: &rng), terms: terms))
        }
        // Pasted documents: more distinct terms than `maxQueryTerms` (4 here), cut to the 4 of
        // highest weight, scored term at a time.
        for q in 0..<4 {
            let terms = (0 ..< 12).map { UInt64(1 + ($0 * (q + 2)) % 30) } + [UInt64(1 + q)]
            queries.append(RankedQuery(code: try BinaryCode.random(bits: 64, using: &rng), terms: terms))
        }
        var options = RankingOptions(rescoring: .bm25, shortlist: 20)
        options.asymmetric = false
        options.maxQueryTerms = 4
        #expect(queries.filter { !options.isTyped($0.terms) }.count == 4)
        // One at a time: 1 x 20 < 300 records, looked up per candidate.
        var single: [RankedResult] = []
        for query in queries { single.append(try index.rank([query], k: 10, options: options)[0]) }
        // All sixteen, repeated to 32: 32 x 20 >= 300, every record inverted (the batch covers
        // the documents twice, not the 128 times that pay on a real index), then (no room for
        // the inversion) every record read up front.
        #expect(try index.invertedRecords(queries: 32, shortlist: 20) == nil)
        index.inversionLimits.coverage = 2
        #expect(try index.invertedRecords(queries: 32, shortlist: 20) != nil)
        let inverted = try index.rank(queries + queries, k: 10, options: options, search: SearchOptions(threads: 1))
        index.inversionLimits.budget = 0
        #expect(try index.invertedRecords(queries: 32, shortlist: 20) == nil)
        let upFront = try index.rank(queries + queries, k: 10, options: options, search: SearchOptions(threads: 1))
        for q in queries.indices {
            for r in [inverted[q], inverted[q + queries.count], upFront[q], upFront[q + queries.count]] {
                #expect(r.hits.map(\.id) == single[q].hits.map(\.id), "query \(q)")
                #expect(r.hits.map(\.bm25) == single[q].hits.map(\.bm25), "query \(q)")
                #expect(r.candidates == single[q].candidates)
            }
        }
        #expect(single.filter { $0.hits.contains { ($0.bm25 ?? 0) > 0 } }.count == queries.count)
    }

    /// A query whose code says nothing gets the documents sharing a term, and only those.
    @Test func anUninformativeQueryGetsOnlyLexicalMatches() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var rng = SeededGenerator(seed: 1)
        let docs = Self.documents(50, seed: 2)
        let index = try Self.index(in: dir, bits: 32, documents: docs, rng: &rng)
        let code = try BinaryCode.random(bits: 32, using: &rng)
        for rescoring in [Rescoring.fused, .bm25] {
            let r = try index.rank([RankedQuery(code: code, terms: [7], codeIsInformative: false)], k: 100,
                                   options: RankingOptions(rescoring: rescoring))[0]
            #expect(r.lexicalOnly)
            #expect(Set(r.hits.map(\.id)) == Set(docs.indices.filter { docs[$0].contains(7) }.map { "d\($0)" }))
            let none = try index.rank([RankedQuery(code: code, terms: [12345], codeIsInformative: false)], k: 5,
                                      options: RankingOptions(rescoring: rescoring))[0]
            #expect(none.hits.isEmpty)
        }
    }

    /// A large batch is split over threads, each with its own read transaction: the results are
    /// the same as on one thread, for every rescoring.
    @Test(arguments: [Rescoring.fused, .bm25, .none])
    func batchResultsDoNotDependOnTheThreadCount(rescoring: Rescoring) throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        var rng = SeededGenerator(seed: 21)
        let docs = Self.documents(400, seed: 22)
        let index = try Self.index(in: dir, bits: 64, documents: docs, rng: &rng)
        let queries = try Self.documents(300, seed: 23).map { terms in
            RankedQuery(code: try BinaryCode.random(bits: 64, using: &rng), logits: (0..<64).map { _ in Float(Int(rng.next() % 200) - 100) / 50 },
                        terms: Array(terms.prefix(4)))
        }
        var options = RankingOptions(rescoring: rescoring, shortlist: 50)
        options.asymmetricPool = 2
        let one = try index.rank(queries, k: 7, options: options, search: SearchOptions(threads: 1))
        let two = try index.rank(queries, k: 7, options: options, search: SearchOptions(threads: 2))
        #expect(one.map(\.hits) == two.map(\.hits))
        #expect(one.allSatisfy { $0.hits.count == 7 })
    }
}
