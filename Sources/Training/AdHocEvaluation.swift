import Encoder
import Foundation
import Ingest

/// A judged ad-hoc collection: documents, queries, and graded judgements (higher = more
/// relevant; a grade above 0 counts as relevant).
public struct JudgedCollection: Sendable {
    public var documents: [(id: String, text: String)]
    public var queries: [(id: String, text: String)]
    /// Query id -> document id -> grade.
    public var judgements: [String: [String: Int]]

    /// Cranfield in SMART format (`cran.all.1400`, `cran.qry`, `cranqrel` in `directory`). A
    /// document's text is its title and abstract (.T and .W); queries are numbered by position
    /// (the `.I` numbers skip values), as the qrels number them; Cleverdon's codes 1 (complete
    /// answer) to 4 (minimal interest) become grades 4 to 1; the -1 rows are dropped.
    public static func cranfield(directory: String) throws -> JudgedCollection {
        func read(_ name: String) throws -> String {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CorpusError.unreadable(path: path, reason: "no such file, or not readable (the Cranfield files are cran.all.1400, cran.qry, cranqrel)")
            }
            return String(decoding: data, as: UTF8.self)
        }
        let documents = smartRecords(try read("cran.all.1400"), fields: ["T", "W"])
        let queries = smartRecords(try read("cran.qry"), fields: ["W"]).enumerated().map { (id: String($0.offset + 1), text: $0.element.text) }
        var judgements: [String: [String: Int]] = [:]
        for line in try read("cranqrel").split(whereSeparator: \.isNewline) {
            let parts = line.split(whereSeparator: \.isWhitespace)
            guard parts.count >= 3, let code = Int(parts[2]), (1...4).contains(code) else { continue }
            judgements[String(parts[0]), default: [:]][String(parts[1])] = 5 - code
        }
        return JudgedCollection(documents: documents, queries: queries, judgements: judgements)
    }

    /// Records of a SMART file: `.I id` starts one; the text is the listed fields joined.
    static func smartRecords(_ text: String, fields: Set<String>) -> [(id: String, text: String)] {
        var out: [(id: String, text: String)] = []
        var id: String?
        var body: [Substring] = []
        var keep = false
        func flush() { if let id { out.append((id, body.joined(separator: "\n"))) } }
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.hasPrefix(".I ") {
                flush()
                id = String(line.dropFirst(3).trimmingCharacters(in: .whitespaces))
                body = []
                keep = false
            } else if line.count == 2, line.hasPrefix(".") {
                keep = fields.contains(String(line.dropFirst()))
            } else if keep {
                body.append(line)
            }
        }
        flush()
        return out
    }

    /// Anyone's judged data: documents and queries as JSONL (`{"id", "text"}`), judgements in
    /// TREC qrels form (`query iteration document grade` per line).
    public static func files(documents: String, queries: String, qrels: String) throws -> JudgedCollection {
        let docs = try Corpus.readJSONL(documents).map { (id: $0.id, text: $0.text) }
        let qs = try Corpus.readJSONL(queries).map { (id: $0.id, text: $0.text) }
        guard let data = FileManager.default.contents(atPath: qrels) else {
            throw CorpusError.unreadable(path: qrels, reason: "no such file, or not readable")
        }
        var judgements: [String: [String: Int]] = [:]
        for (n, line) in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).enumerated() {
            let parts = line.split(whereSeparator: \.isWhitespace)
            if parts.isEmpty { continue }
            guard parts.count == 4, let grade = Int(parts[3]) else {
                throw CorpusError.badLine(path: qrels, line: n + 1, reason: "expected 'query iteration document grade'")
            }
            judgements[String(parts[0]), default: [:]][String(parts[2])] = grade
        }
        return JudgedCollection(documents: docs, queries: qs, judgements: judgements)
    }
}

/// Ad-hoc retrieval measures over ranked lists, averaged over the queries that have at least
/// one relevant document (as trec_eval does): MAP cut at 100, nDCG@10 (linear gains = grades,
/// ideal order from all judgements), P@10, recall at 100 and 1000.
public struct AdHocMeasures: Sendable {
    public var map100 = 0.0, ndcg10 = 0.0, p10 = 0.0, recall100 = 0.0, recall1000 = 0.0
    public var queries = 0

    public static func evaluate(_ rankings: [String: [String]], judgements: [String: [String: Int]]) -> AdHocMeasures {
        var m = AdHocMeasures()
        // Queries in a fixed order (by id), so the sums, and the JSON, are the same to the bit
        // from run to run (a dictionary's order changes with each process's hash seed).
        for (q, judged) in judgements.sorted(by: { $0.key < $1.key }) {
            let relevant = judged.filter { $0.value > 0 }
            guard !relevant.isEmpty else { continue }
            let ranked = rankings[q] ?? []
            m.queries += 1
            var hits = 0, ap = 0.0, dcg = 0.0
            for (r, doc) in ranked.prefix(1000).enumerated() {
                guard let grade = relevant[doc] else { continue }
                hits += 1
                if r < 100 { ap += Double(hits) / Double(r + 1) }
                if r < 10 { m.p10 += 0.1; dcg += Double(grade) / log2(Double(r + 2)) }
                if r < 100 { m.recall100 += 1 / Double(relevant.count) }
                m.recall1000 += 1 / Double(relevant.count)
            }
            m.map100 += ap / Double(relevant.count)
            let ideal = relevant.values.sorted(by: >).prefix(10).enumerated().reduce(0.0) { $0 + Double($1.element) / log2(Double($1.offset + 2)) }
            m.ndcg10 += ideal > 0 ? dcg / ideal : 0
        }
        let n = Double(max(1, m.queries))
        m.map100 /= n; m.ndcg10 /= n; m.p10 /= n; m.recall100 /= n; m.recall1000 /= n
        return m
    }

    public var json: [String: Any] {
        ["map_at_100": map100, "ndcg_at_10": ndcg10, "p_at_10": p10, "recall_at_100": recall100, "recall_at_1000": recall1000, "queries": queries]
    }
}

/// Exhaustive lexical baselines over a whole collection, with the lexical stage's analyzer:
/// BM25 (every document scored) and TF-IDF cosine (sublinear TF, smoothed IDF).
public enum LexicalBaselines {
    /// The top `k` document indices per query, by BM25 over every document (ties: lower index).
    public static func bm25(documents: [String], queries: [String], k: Int, k1: Double = 1.2, b: Double = 0.75) -> [[Int]] {
        let analyzer = LexicalAnalyzer()
        let docs = documents.map { analyzer.terms($0) }
        var postings: [String: [(Int, Int)]] = [:]
        var lengths = [Double](repeating: 0, count: docs.count)
        for (d, terms) in docs.enumerated() {
            lengths[d] = Double(terms.count)
            var counts: [String: Int] = [:]
            for t in terms { counts[t, default: 0] += 1 }
            for (t, c) in counts { postings[t, default: []].append((d, c)) }
        }
        let n = Double(docs.count), average = max(1, lengths.reduce(0, +) / max(1, n))
        return queries.map { q in
            var scores = [Double](repeating: 0, count: docs.count)
            var qtf: [String: Int] = [:]
            for t in analyzer.terms(q) { qtf[t, default: 0] += 1 }
            for (t, c) in qtf {
                guard let list = postings[t] else { continue }
                let idf = log(1 + (n - Double(list.count) + 0.5) / (Double(list.count) + 0.5))
                for (d, tf) in list {
                    let f = Double(tf)
                    scores[d] += Double(c) * idf * f * (k1 + 1) / (f + k1 * (1 - b + b * lengths[d] / average))
                }
            }
            return top(scores, k)
        }
    }

    /// The top `k` document indices per query by TF-IDF cosine.
    public static func tfidfCosine(documents: [String], queries: [String], k: Int) -> [[Int]] {
        let analyzer = LexicalAnalyzer()
        let docs = documents.map { analyzer.terms($0) }
        var df: [String: Int] = [:]
        for terms in docs { for t in Set(terms) { df[t, default: 0] += 1 } }
        let n = Double(docs.count)
        func vector(_ terms: [String]) -> [String: Double] {
            var counts: [String: Int] = [:]
            for t in terms { counts[t, default: 0] += 1 }
            var v: [String: Double] = [:]
            for (t, c) in counts { if let f = df[t] { v[t] = (1 + log(Double(c))) * (log((1 + n) / (1 + Double(f))) + 1) } }
            let norm = sqrt(v.values.reduce(0) { $0 + $1 * $1 })
            return norm > 0 ? v.mapValues { $0 / norm } : v
        }
        var postings: [String: [(Int, Double)]] = [:]
        for (d, terms) in docs.enumerated() { for (t, w) in vector(terms) { postings[t, default: []].append((d, w)) } }
        return queries.map { q in
            var scores = [Double](repeating: 0, count: docs.count)
            for (t, w) in vector(analyzer.terms(q)) { for (d, x) in postings[t] ?? [] { scores[d] += w * x } }
            return top(scores, k)
        }
    }

    static func top(_ scores: [Double], _ k: Int) -> [Int] {
        Array(scores.indices.filter { scores[$0] > 0 }.sorted { (scores[$0], -$0) > (scores[$1], -$1) }.prefix(k))
    }
}
