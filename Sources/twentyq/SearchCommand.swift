import ArgumentParser
import Foundation
import Ingest
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder
import PostgresStore

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find the documents nearest to a text, a stored document, or a file of queries.",
        discussion: """
        A text query is ranked in two stages: the codes choose a shortlist (--candidates, by the \
        query's logits against the codes' bits unless --hamming), documents holding a rare query \
        word join it, and BM25 over the index's term statistics re-orders it (--rescore bm25, the \
        default), fused with the code score (fused), or not at all (none: the codes alone order \
        it). A typed query to a model with query bits (the shipped one) is matched by those bits \
        alone: its distances count them. A query none of whose words the model knows is answered by the documents that share a \
        word with it, with a warning. --queries FILE.jsonl answers many queries in one batch: one \
        JSON line per query, {"query_id", "results": [{"id", "distance", "score"}, ...]}, query_id \
        being the query's "id" field. The file is read 32 MB at a time: a bad line stops the \
        search with a message naming it (exit status 1) before any answer when it lies in the \
        first 32 MB, else after the answers to the queries before its piece.
        """
    )

    @OptionGroup var index: AnyStoreOptions
    @Option(name: .short, help: "Results per query.") var k: Int = 10
    @Option(help: "Return every document within this Hamming distance instead of the k nearest.") var radius: Int?
    @Option(help: ArgumentHelp("Search with a stored document's code (more like this).", valueName: "id")) var like: String?
    @Option(help: ArgumentHelp("JSONL queries ({\"id\", \"text\"} per line).", valueName: "file")) var queries: String?
    @Option(help: ArgumentHelp("Search by a code (hex, as `export` writes it), by Hamming distance: for any index, including one of ready-made codes (`index --codes`).", valueName: "hex")) var code: String?
    @Option(name: .customLong("text-field"), help: "Query JSONL field holding the text.") var textField: String = "text"
    @Flag(help: "For each hit, show the bits (questions) on which it and the query differ.") var explain = false
    @Flag(help: "Print JSON.") var json = false
    @Option(help: ArgumentHelp("A query vector for a vector index: numbers separated by commas or spaces, or a JSON array (write --vector=-0.1,... when the first is negative).", valueName: "numbers")) var vector: String?
    @Option(help: ArgumentHelp("Query vectors (npy, fvecs or JSONL) for a vector index: one JSON line per row, query_id = 0-based row.", valueName: "file")) var queriesVectors: String?
    @Option(help: "Vector search: candidates per result to rescore.") var oversample: Int = 4
    @Option(help: "Vector search with rescoring: Hamming-nearest codes per rescored candidate, from which the asymmetric score (query logits against code bits) picks the candidates; 1 rescores the Hamming-nearest.") var shortlist: Int = VectorIndex.defaultShortlist
    @Option(help: ArgumentHelp("Text queries: order the shortlist by bm25 (the default), fused (code score and BM25, reciprocal-rank fusion), or none (the codes alone). Vector queries: none turns off rescoring with the stored vectors (default: on when the index stores them).", valueName: "mode")) var rescore: Rescoring?
    @Option(help: ArgumentHelp("Text queries: documents the codes choose (default: 100 per result, 1,000 to 5,000), which the lexical stage re-orders, or --rescore none by the code score alone.", valueName: "n")) var candidates: Int?
    @Flag(help: "Text queries: choose the shortlist by Hamming distance instead of the query's logits against the codes' bits.") var hamming = false
    @Option(help: "Text queries: BM25 k1 (term-frequency saturation).") var k1: Double = 1.2
    @Option(help: "Text queries: BM25 b (length normalisation, 0 to 1).") var b: Double = 0.75
    @Option(help: ArgumentHelp("Text queries of at most 25 terms: expand the query from its n best documents by BM25 (RM3 pseudo-relevance feedback, 10 terms, original query weight 0.5) and score the candidates again; with --rescore none, from its n best codes, each weighted by its score; 0 turns it off.", valueName: "n")) var feedback: Int = RelevanceFeedback().documents
    @Flag(help: "Print to standard error, per query, which path answered (multi-index tables or scan) and how many candidates it checked.") var explainPlan = false
    @Option(help: ArgumentHelp("auto (default): the multi-index tables when they pay, else the scan; scan: always scan; tables: the tables whatever they cost.", valueName: "method")) var method: SearchMethod = .auto
    @Option(help: ArgumentHelp("An index in PostgreSQL with an HNSW graph (`tables --graph`): search approximately through the graph, keeping n candidates (pgvector's hnsw.ef_search, 1 to 1,000; a text query's shortlist then comes from the graph, pgvector 0.8 or later); without it the search is exact.", valueName: "n")) var efSearch: Int?
    @Argument(help: "Query text.") var text: [String] = []

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1 (got \(k))") }
        if let radius, radius < 0 { throw ValidationError("--radius must be >= 0 (got \(radius))") }
        guard oversample >= 1 else { throw ValidationError("--oversample must be at least 1 (got \(oversample))") }
        guard shortlist >= 1 else { throw ValidationError("--shortlist must be at least 1 (got \(shortlist))") }
        let modes = [!text.isEmpty, like != nil, queries != nil, vector != nil, queriesVectors != nil, code != nil].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of: a query text, --like ID, --code HEX, --queries FILE, --vector NUMBERS, --queries-vectors FILE") }
        if code != nil && (explain || rescore != nil) { throw ValidationError("--code searches by Hamming distance alone: no --explain or --rescore") }
        if (vector != nil || queriesVectors != nil) && (radius != nil || explain) {
            throw ValidationError("--radius and --explain go with text queries, not vectors")
        }
        if radius != nil && (queries != nil || like != nil) { throw ValidationError("--radius goes with a query text or --code only") }
        if explain && queries != nil { throw ValidationError("--explain goes with a single query (text or --like)") }
        if vector != nil || queriesVectors != nil, let rescore, rescore != .none {
            throw ValidationError("--rescore \(rescore.rawValue) goes with text queries; for vectors give --rescore none (or nothing: rescoring with the stored vectors)")
        }
        if let candidates, candidates < 1 { throw ValidationError("--candidates must be at least 1 (got \(candidates))") }
        guard k1.isFinite, k1 >= 0 else { throw ValidationError("--k1 must be a finite number >= 0 (got \(k1))") }
        guard b.isFinite, (0...1).contains(b) else { throw ValidationError("--b must be between 0 and 1 (got \(b))") }
        guard feedback >= 0 else { throw ValidationError("--feedback must be 0 (off) or a number of documents (got \(feedback))") }
        if let efSearch {
            guard (1...1_000).contains(efSearch) else { throw ValidationError("--ef-search must be 1 to 1,000 (got \(efSearch))") }
            guard PostgresLocation.isURL(index.db) else {
                throw ValidationError("--ef-search goes with an index in PostgreSQL that has an HNSW graph; an LMDB index's search is exact and uses its multi-index tables when they pay")
            }
            guard radius == nil else { throw ValidationError("--ef-search finds the k nearest; a --radius search is exact") }
        }
    }

    /// Queries of a --queries file answered in one batch: enough for the batch's Hamming pass to
    /// pay for its scan of the codes (the 7,532 20 Newsgroups test messages are one batch), few
    /// enough that a file of a million queries never holds its answers all at once.
    static let queryChunk = 8_192
    /// Answer lines formatted at a time (on every core) before they are written: about 7 MB at
    /// 100 hits a query.
    static let formatChunk = 1_024

    /// The ranking of text queries that the options ask for.
    var rankingOptions: RankingOptions {
        var options = RankingOptions(rescoring: rescore ?? RankingOptions().rescoring, shortlist: candidates)
        options.asymmetric = !hamming
        options.k1 = k1
        options.b = b
        options.feedback.documents = feedback
        return options
    }

    var multiIndexUse: MultiIndexUse {
        switch method {
        case .auto: return .auto
        case .scan: return .off
        case .tables: return .always
        }
    }

    /// The search options of --method and --explain-plan.
    func searchOptions(_ report: SearchReport) -> SearchOptions {
        var options = SearchOptions()
        options.multiIndex = multiIndexUse
        if explainPlan { options.report = report }
        return options
    }

    /// With --explain-plan: one JSON line per query on standard error.
    func printPlans(_ report: SearchReport, queryIDs: [String]? = nil) throws {
        guard explainPlan else { return }
        var out = ""
        for (q, plan) in report.plans.enumerated() {
            var object: [String: Any] = [
                "query_id": queryIDs?[q] ?? String(q), "method": plan.method == .multiIndex ? "tables" : "scan",
                "candidates": plan.candidates, "probes": plan.probes, "substring_radius": plan.substringRadius,
                "tables": report.substrings, "pending": report.pending,
            ]
            if method == .scan { object["why"] = "--method scan" }
            else if report.substrings == 0 { object["why"] = "the index has no multi-index tables (see `twentyq tables`)" }
            else if plan.method == .scan && plan.probes == 0 { object["why"] = "the tables did not pay for recent queries or for this batch's first ones" }
            else if plan.method == .scan { object["why"] = "the tables' work passed the budget" }
            out += try jsonLine(object) + "\n"
        }
        FileHandle.standardError.write(Data(out.utf8))
    }

    func run() throws {
        if let target = try PostgresTarget(db: index.db) { return try searchPostgres(target) }
        if vector != nil || queriesVectors != nil { return try searchVectors() }
        if let store = try indexSearchedByCode() { return try searchCodes(store) }
        let target = try DocumentIndex.open(at: index.db, readOnly: true)
        let report = SearchReport()
        target.searchOptions = searchOptions(report)
        target.ranking = rankingOptions
        if let queries {
            // Read a piece at a time and answered `queryChunk` queries at a time, each chunk's
            // lines written before the next is read: memory stays bounded whatever the number of
            // queries (a query's hits never depend on the others in its batch).
            var pending: [CorpusDocument] = []
            func answer() throws {
                let results = try target.search(texts: pending.map(\.text), k: k, fields: false)
                try printPlans(report, queryIDs: pending.map(\.id))
                // The lines formatted on every core, `formatChunk` at a time, and written in order
                // (formatting 100 hits a query, two numbers each, took 5% of the 20 Newsgroups
                // batch on one thread while the other waited).
                for start in stride(from: 0, to: pending.count, by: Self.formatChunk) {
                    let range = start ..< min(pending.count, start + Self.formatChunk)
                    let threads = max(1, min(SearchOptions.onlineCores, range.count / 64))
                    var lines = [String](repeating: "", count: threads)
                    lines.withUnsafeMutableBufferPointer { out in
                        parallelFor(iterations: threads) { t in
                            let part = range.lowerBound + range.count * t / threads ..< range.lowerBound + range.count * (t + 1) / threads
                            for q in part { out[t] += JSONText.queryResult(queryID: pending[q].id, hits: results[q].hits) + "\n" }
                        }
                    }
                    for part in lines { FileHandle.standardOutput.write(Data(part.utf8)) }
                }
                pending.removeAll(keepingCapacity: true)
            }
            try Corpus.reading(queries) { handle in
                _ = try Corpus.forEachJSONLPiece(reading: handle, label: queries, textField: textField) { piece in
                    for doc in piece {
                        pending.append(doc)
                        if pending.count == Self.queryChunk { try answer() }
                    }
                }
            }
            if !pending.isEmpty { try answer() }
            return
        }
        let query = text.joined(separator: " ")
        let hits: [SearchHit]
        if let like {
            do { hits = try target.search(like: like, k: k) } catch IndexError.unknownID(let id) { throw try CLIMessages.unknownID(id, in: target.store) }
        } else if let radius {
            guard radius <= target.model.bits else {
                throw ValidationError("--radius must be at most the code width, \(target.model.bits) (got \(radius))")
            }
            hits = try target.search(query, radius: radius)
        } else {
            let result = try target.search(texts: [query], k: k, threads: 1)[0]
            hits = result.hits
            if result.lexicalOnly { Self.warnLexicalOnly(hits, query: query) }
        }
        try printPlans(report)
        if json { return try Self.printJSON(query: like.map { "like:" + $0 } ?? query, hits) }
        if hits.isEmpty { print("no results") }
        let queryCode = try like.map { id in try target.code(for: id) } ?? target.model.encode(query)
        // Each hit shows its first five differing bits: only those are explained.
        let codes = explain ? try hits.map { try target.code(for: $0.id) } : []
        let differing = codes.map { code in
            code.flatMap { code in queryCode.map { q in (0..<code.bits).filter { code[bit: $0] != q[bit: $0] } } } ?? []
        }
        let shown = Set(differing.flatMap { $0.prefix(5) })
        let questions = explain ? Dictionary(uniqueKeysWithValues: BitExplanation.explain(target.model, bits: shown.sorted(), top: 3).map { ($0.bit, $0) }) : [:]
        for (rank, hit) in hits.enumerated() {
            print(Self.line(rank, hit))
            guard explain, let queryCode, let code = codes[rank] else { continue }
            let differing = differing[rank]
            print("   agree on \(code.bits - differing.count) of \(code.bits) questions; differ on \(differing.count)"
                  + (differing.isEmpty ? "" : ", first ones:"))
            for b in differing.prefix(5) {
                guard let q = questions[b] else { continue }
                let yes = q.yes.map(\.term).joined(separator: ", "), no = q.no.map(\.term).joined(separator: ", ")
                let asks = b >= target.model.config.bits ? "a query bit: a random projection of the words" : "yes: \(yes) | no: \(no)"
                print("     bit \(b) (\(asks)): query \(queryCode[bit: b] ? "yes" : "no"), hit \(code[bit: b] ? "yes" : "no")")
            }
        }
    }
}

extension SearchCommand {
    /// The warning for a query none of whose words the model knows: one without any word to
    /// search for (empty, or stop words only) is told so.
    static func warnLexicalOnly(_ hits: [SearchHit], query: String) {
        if hits.isEmpty, LexicalAnalyzer().terms(query).isEmpty {
            return warn("this query has no word to search for: it is empty or holds only stop words (\"the\", \"of\", ...), which are not indexed: no results")
        }
        warn(hits.isEmpty
             ? "the model knows no word of this query and no document holds any of its words: no results"
             : "the model knows no word of this query; these are the documents that share a word with it, by BM25 (to teach the model your words: twentyq train)")
    }

    /// One query's hits as one JSON line: id, distance, snippet, and the scores there are.
    static func printJSON(query: String, _ hits: [SearchHit]) throws {
        print(try jsonLine(["query": query,
                            "results": hits.map { hit -> [String: Any] in
                                var o: [String: Any] = ["id": hit.id, "distance": hit.distance, "snippet": hit.fields["snippet"] ?? ""]
                                if let score = hit.score { o["score"] = score }
                                if let bm25 = hit.bm25 { o["bm25"] = bm25 }
                                return o
                            }]))
    }

    /// A hit as the terminal shows it: rank, distance, id and the start of its snippet.
    static func line(_ rank: Int, _ hit: SearchHit) -> String {
        "\(rank + 1). d=\(hit.distance)  \(TerminalText.safe(hit.id))  \(TerminalText.safe((hit.fields["snippet"] ?? "").prefix(100)))"
    }

    /// Parses "0.1, 0.2 0.3" or "[0.1, 0.2, 0.3]".
    static func parseVector(_ text: String) throws -> [Float] {
        let items = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "[" || $0 == "]" || $0 == "\n" || $0 == "\t" })
        var out: [Float] = []
        for (i, item) in items.enumerated() {
            guard let v = Float(item), v.isFinite else {
                throw ValidationError("--vector: value \(i) (\"\(item)\") is not a finite number")
            }
            out.append(v)
        }
        guard !out.isEmpty else { throw ValidationError("--vector is empty; give the query's numbers") }
        return out
    }

    /// Vector rescoring: off for --rescore none, else as the index allows (nil).
    var rescoreVectors: Bool? { rescore == Rescoring.none ? false : nil }

    func searchVectors() throws {
        let target = try VectorIndex.open(at: index.db, readOnly: true)
        let report = SearchReport()
        target.searchOptions = searchOptions(report)
        if let queriesVectors {
            let set = try VectorFile.read(queriesVectors, dimensions: target.dimensions)
            let results = try target.search(set, k: k, rescore: rescoreVectors, oversample: oversample, shortlist: shortlist)
            try printPlans(report)
            var out = ""
            for (row, hits) in results.enumerated() {
                out += JSONText.vectorQueryResult(queryRow: row, hits: hits) + "\n"
                if out.utf8.count > 1 << 20 { FileHandle.standardOutput.write(Data(out.utf8)); out = "" }
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            return
        }
        let query = try Self.parseVector(vector!)
        guard query.count == target.dimensions else {
            throw ValidationError("--vector has \(query.count) numbers; the index holds \(target.dimensions)-dimensional vectors")
        }
        let hits = try target.search(query, k: k, rescore: rescoreVectors, oversample: oversample, shortlist: shortlist)
        try printPlans(report)
        if json {
            print(JSONText.vectorQueryResult(queryRow: 0, hits: hits))
            return
        }
        if hits.isEmpty { print("no results") }
        for (rank, hit) in hits.enumerated() {
            print("\(rank + 1). d=\(hit.distance)" + (hit.score.map { String(format: "  score=%.4f", $0) } ?? "") + "  \(TerminalText.safe(hit.id))")
        }
    }
}

/// `search --method`: how the codes are searched (results are the same either way).
enum SearchMethod: String, CaseIterable, ExpressibleByArgument {
    case auto, scan, tables
}
