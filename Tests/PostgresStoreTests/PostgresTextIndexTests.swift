import BinaryCodes
import CodeStore
import Foundation
import PostgresStore
import TestSupport
import Testing

/// An index of text documents in PostgreSQL (layout 2) against a real PostgreSQL 15: its terms,
/// document frequencies and statistics follow adds, replacements and removals, and its ranked
/// search orders documents as an LMDB index holding the same entries does.
@Suite struct PostgresTextIndexTests {
    /// Documents of words from a small pool (so terms are shared), seeded.
    static func documents(_ n: Int, seed: UInt64) -> [[UInt64]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in (0 ..< 1 + Int(rng.next() % 12)).map { _ in 1 + rng.next() % 40 } }
    }

    static func entries(_ docs: [[UInt64]], codes: CodeMatrix, ids: Range<Int>) -> [IndexEntry] {
        ids.map { IndexEntry(id: String(format: "d%03d", $0), code: codes[$0], metadata: Array("{\"n\":\"\($0)\"}".utf8), terms: TermCounts(terms: docs[$0])) }
    }

    /// The document frequencies and statistics the server holds equal those recomputed from the
    /// stored term lists.
    func expectConsistent(_ server: TestPostgres, _ index: PostgresCodeIndex, expected: [String: [UInt64]]) async throws {
        let stats = try await index.termStatistics()
        #expect(stats.documents == expected.count)
        #expect(stats.totalLength == expected.values.reduce(0) { $0 + $1.count })
        var df: [UInt64: Int] = [:]
        for terms in expected.values { for t in Set(terms) { df[t, default: 0] += 1 } }
        let stored = try server.psql(sql: "SELECT hash || ' ' || df FROM tqdf_notes ORDER BY hash;")
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(stored == df.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })
    }

    @Test func termsFollowAddsReplacementsAndRemovalsAndRankingEqualsLMDB() async throws {
        let server = try TestPostgres()
        defer { server.stop() }
        let location = try PostgresLocation(url: server.url)
        let index = try await PostgresCodeIndex.create(at: location, name: "notes", bits: 64, modelFingerprint: "tqm-test", modelFile: [1, 2, 3, 250])
        #expect(index.keepsTerms && index.format == 2)
        #expect(try await index.modelFile() == [1, 2, 3, 250])
        var docs = Self.documents(150, seed: 7)
        docs[140] += [5000]                                    // a rare term: df 1
        let codes = try clusteredCodes(bits: 64, count: 150, seed: 8, noise: 6, centres: 5)
        var expected: [String: [UInt64]] = [:]
        for i in 0..<150 { expected[String(format: "d%03d", i)] = docs[i] }
        #expect(try await index.add(Self.entries(docs, codes: codes, ids: 0..<150)) == AddSummary(added: 150))
        #expect(try await index.add(Self.entries(docs, codes: codes, ids: 0..<20)) == AddSummary(unchanged: 20))
        try await expectConsistent(server, index, expected: expected)

        // Replace some with new terms (same codes: the terms alone changed), remove others.
        var changed = docs
        for i in 20..<30 { changed[i] = [7, 7, 8, 39] }
        #expect(try await index.add(Self.entries(changed, codes: codes, ids: 20..<30)) == AddSummary(replaced: 10))
        for i in 20..<30 { expected[String(format: "d%03d", i)] = changed[i] }
        #expect(try await index.remove(ids: ["d000", "d001", "d002"]) == 3)
        for id in ["d000", "d001", "d002"] { expected[id] = nil }
        // A failed removal (an unknown id) changes nothing.
        await #expect(throws: IndexError.self) { try await index.remove(ids: ["d003", "nope"]) }
        try await expectConsistent(server, index, expected: expected)

        // The same entries in LMDB: the ranked search gives the same hits, scores and order.
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let lmdb = try CodeIndex.create(at: dir.appending("idx"), bits: 64)
        try lmdb.add(Self.entries(changed, codes: codes, ids: 3..<150))
        var rng = SeededGenerator(seed: 9)
        let logits = (0..<64).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
        let queries = [
            RankedQuery(code: codes[50], terms: [7, 8, 12]),
            RankedQuery(code: codes[60], logits: logits, terms: [3, 3, 21, 5000]),
            RankedQuery(code: codes[70], terms: Array(UInt64(1)...40)),             // pasted: more than 25 terms
            RankedQuery(code: codes[80], terms: [5000, 99_999], codeIsInformative: false),
        ]
        for (shortlist, rescoring) in [(20, Rescoring.bm25), (1000, .bm25), (20, .fused), (20, .none)] {
            var options = RankingOptions(rescoring: rescoring, shortlist: shortlist)
            options.asymmetricPool = 2
            for (q, query) in queries.enumerated() {
                let want = try lmdb.rank([query], k: 12, options: options, fields: true)[0]
                let got = try await index.rank(query, k: 12, options: options)
                let context = "query \(q), \(rescoring), shortlist \(shortlist)"
                #expect(!want.hits.isEmpty, "\(context)")
                #expect(got.hits.map(\.id) == want.hits.map(\.id), "\(context)")
                #expect(zip(got.hits, want.hits).allSatisfy { $0.distance == $1.distance && $0.fields == $1.fields }, "\(context)")
                #expect(zip(got.hits, want.hits).allSatisfy { abs(($0.score ?? 0) - ($1.score ?? 0)) < 1e-9 && abs(($0.bm25 ?? 0) - ($1.bm25 ?? 0)) < 1e-9 }, "\(context)")
                #expect(got.candidates == want.candidates && got.lexicalOnly == want.lexicalOnly && got.usedTerms == want.usedTerms, "\(context)")
            }
        }
        // The rare term's one document comes first for a query of it alone, code or no code.
        let rare = try await index.rank(RankedQuery(code: codes[0], terms: [5000], codeIsInformative: false), k: 5)
        #expect(rare.hits.map(\.id) == ["d140"] && rare.lexicalOnly)
        await index.close()
    }

    /// A query that counts part of each code (`countedWords`: a typed query's query bits) ranks
    /// as in LMDB, where it is checked against the reference: the same hits and distances over
    /// the counted words (`substring` of the bit strings in SQL).
    @Test func countedWordsRankAsInLMDB() async throws {
        let server = try TestPostgres()
        defer { server.stop() }
        let index = try await PostgresCodeIndex.create(at: try PostgresLocation(url: server.url), name: "parts", bits: 192, modelFingerprint: "tqm-test", modelFile: [1, 2, 3])
        do { try await rankCountedWords(index) } catch { Issue.record(error) }
        await index.close()
    }

    func rankCountedWords(_ index: PostgresCodeIndex) async throws {
        let docs = Self.documents(120, seed: 17)
        let codes = try randomMatrix(bits: 192, count: 120, seed: 18)
        _ = try await index.add(Self.entries(docs, codes: codes, ids: 0..<120))
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let lmdb = try CodeIndex.create(at: dir.appending("idx"), bits: 192)
        try lmdb.add(Self.entries(docs, codes: codes, ids: 0..<120))
        var rng = SeededGenerator(seed: 19)
        let query = try BinaryCode.random(bits: 192, using: &rng)
        let logits = (0..<192).map { $0 < 64 ? Float(0) : Float(Int(rng.next() % 2001) - 1000) / 1000 }
        for (counted, withLogits) in [(1 ..< 3, false), (1 ..< 3, true), (2 ..< 3, false), (0 ..< 1, true)] {
            let q = RankedQuery(code: query, logits: withLogits ? logits : nil, terms: [4, 9], countedWords: counted)
            for rescoring in [Rescoring.none, .bm25] {
                var options = RankingOptions(rescoring: rescoring, shortlist: 20)
                options.asymmetricPool = 2
                let want = try lmdb.rank([q], k: 10, options: options, fields: true)[0]
                let got = try await index.rank(q, k: 10, options: options)
                let context = "\(counted) logits \(withLogits) \(rescoring)"
                #expect(want.hits.count == 10, "\(context)")
                #expect(got.hits.map(\.id) == want.hits.map(\.id), "\(context)")
                #expect(got.hits.map(\.distance) == want.hits.map(\.distance), "\(context)")
                #expect(want.hits.allSatisfy { $0.distance <= 64 * counted.count }, "\(context)")
            }
        }
        await #expect(throws: CodeError.invalidCountedWords(2 ..< 4, words: 3)) {
            try await index.rank(RankedQuery(code: query, terms: [4], countedWords: 2 ..< 4), k: 10)
        }
    }

    @Test func anIndexOfCodesRefusesTermsAndRanksByItsCodes() async throws {
        let server = try TestPostgres()
        defer { server.stop() }
        let location = try PostgresLocation(url: server.url)
        let index = try await PostgresCodeIndex.create(at: location, name: "codes", bits: 64)
        #expect(!index.keepsTerms && index.format == 1)
        #expect(try await index.modelFile() == nil)
        let codes = try clusteredCodes(bits: 64, count: 30, seed: 4, noise: 6, centres: 3)
        let docs = Self.documents(30, seed: 5)
        do {
            _ = try await index.add(Self.entries(docs, codes: codes, ids: 0..<30))
            Issue.record("terms were accepted by an index of codes")
        } catch IndexError.invalidSetting(let message) {
            #expect(message.contains("keeps codes only"))
        }
        #expect(try await index.count() == 0)
        _ = try await index.add((0..<30).map { IndexEntry(id: String(format: "d%03d", $0), code: codes[$0]) })
        // Without terms the ranked search is the codes' order, as `nearest`.
        let ranked = try await index.rank(RankedQuery(code: codes[3], terms: [1, 2]), k: 10)
        let nearest = try await index.nearest(to: try CodeMatrix(bits: 64, words: codes[3].words), k: 10)[0]
        #expect(!ranked.usedTerms && ranked.hits.map(\.id) == nearest.map(\.id))
        await index.close()
    }

    /// Writers at once through a pool, on overlapping ids (adds, replacements and removals): the
    /// document frequencies and statistics end equal to those of the rows that are there.
    @Test func concurrentWritersKeepTheFrequenciesExact() async throws {
        let server = try TestPostgres()
        defer { server.stop() }
        let pool = try PostgresPool(try PostgresLocation(url: server.url), maximumConnections: 4)
        let running = Task { await pool.run() }
        defer { running.cancel() }
        let index = try await PostgresCodeIndex.create(in: pool, name: "notes", bits: 64, modelFingerprint: "tqm-test", modelFile: [7])
        let codes = try clusteredCodes(bits: 64, count: 240, seed: 18, noise: 6, centres: 4)
        let first = Self.documents(240, seed: 19), second = Self.documents(240, seed: 20)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<6 {
                group.addTask {
                    // Each writer: its own 40 ids, then the next writer's 40 with other terms.
                    _ = try await index.add(Self.entries(first, codes: codes, ids: w * 40 ..< w * 40 + 40))
                    let next = (w + 1) % 6
                    _ = try await index.add(Self.entries(second, codes: codes, ids: next * 40 ..< next * 40 + 40))
                    if w % 2 == 0 { _ = try? await index.remove(ids: [String(format: "d%03d", w * 40 + 1)]) }
                }
            }
            try await group.waitForAll()
        }
        // What is there, read back row by row, is what the frequencies must count.
        var expected: [String: [UInt64]] = [:]
        var totalLength = 0
        var after: String?
        while true {
            let page = try await index.entries(after: after, limit: 100)
            guard let last = page.last else { break }
            for entry in page {
                let terms = try #require(entry.terms)
                expected[entry.id] = terms.hashes
                totalLength += terms.length
            }
            after = last.id
        }
        #expect(expected.count >= 237 && expected.count <= 240, "\(expected.count)")
        let stats = try await index.termStatistics()
        #expect(stats.documents == expected.count)
        var df: [UInt64: Int] = [:]
        for hashes in expected.values { for h in hashes { df[h, default: 0] += 1 } }
        let stored = try server.psql(sql: "SELECT hash || ' ' || df FROM tqdf_notes ORDER BY hash;")
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(stored == df.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })
        #expect(stats.totalLength == totalLength && totalLength > 0)
    }
}
