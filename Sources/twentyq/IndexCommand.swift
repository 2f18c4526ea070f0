import ArgumentParser
import Foundation
import Training
import TwentyQ

/// The index directory used when --db is not given.
let defaultIndexDirectory = "twentyq-index"

struct DocumentIndexOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Index directory (default: ./\(defaultIndexDirectory)).", valueName: "dir"))
    var db: String = defaultIndexDirectory
}

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index files, folders or JSONL documents for search.",
        discussion: """
        Folders are walked recursively (hidden entries skipped); ids are paths relative to the \
        folder. .jsonl files hold one {"id", "text", ...} per line; other fields are kept. "-" reads \
        JSONL from standard input. .html/.htm are reduced to text; binary files are skipped and \
        counted. Re-indexing is incremental: unchanged documents (content hash) are skipped, changed \
        ones replaced. The index keeps a copy of its model; later commands need only --db.
        """
    )

    @OptionGroup var index: DocumentIndexOptions
    @Option(help: ArgumentHelp("Model for a new index (default: the shipped model).", valueName: "file")) var model: String?
    @Option(name: .customLong("text-field"), help: "JSONL field holding the text.") var textField: String = "text"
    @Option(name: .customLong("id-field"), help: "JSONL field holding the id.") var idField: String = "id"
    @Option(help: "Documents per committed transaction.") var batch: Int = 2_000
    @Flag(help: "Remove documents of the given folders whose files are gone.") var prune = false
    @Flag(help: "Skip malformed JSONL lines and unreadable files instead of stopping.") var skipBad = false
    @Flag(help: "Print a JSON summary.") var json = false
    @Argument(help: ArgumentHelp("Files, folders, or - for JSONL on standard input.", valueName: "path")) var paths: [String]

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1 (got \(batch))") }
    }

    func run() throws {
        let start = Date()
        let gathered = try DocumentSources(textField: textField, idField: idField, skipBad: skipBad).gather(paths)
        var seen = Set<String>()
        for d in gathered.documents { guard seen.insert(d.id).inserted else { throw IndexError.duplicateID(d.id) } }
        let target = try DocumentIndex.open(at: index.db, model: try model.map { try ModelFile.read($0) })
        var report = IndexingReport()
        var progress = Progress(total: gathered.documents.count, label: "indexing")
        for batchStart in stride(from: 0, to: gathered.documents.count, by: batch) {
            let slice = Array(gathered.documents[batchStart ..< min(gathered.documents.count, batchStart + batch)])
            let r = try target.add(slice)
            report.added += r.added; report.replaced += r.replaced; report.unchanged += r.unchanged
            progress.update(batchStart + slice.count)
        }
        progress.finish()
        var pruned = 0
        if prune && !gathered.roots.isEmpty {
            var gone: [String] = []
            try target.store.forEachRecord { id, metadata, _ in
                let fields = (try? JSONSerialization.jsonObject(with: Data(metadata)) as? [String: Any]) ?? [:]
                if let source = fields["source"] as? String, gathered.roots.contains(source), !seen.contains(id) { gone.append(id) }
                return true
            }
            pruned = try target.remove(ids: gone)
        }
        let seconds = Date().timeIntervalSince(start)
        let total = try target.store.count
        let skipped = gathered.skipped.values.reduce(0, +)
        if json {
            print(try jsonLine([
                "added": report.added, "replaced": report.replaced, "unchanged": report.unchanged, "skipped": skipped,
                "skipped_reasons": gathered.skipped, "pruned": pruned, "documents": total, "seconds": seconds,
                "docs_per_second": Double(gathered.documents.count) / max(seconds, 1e-9), "db": index.db,
            ]))
        } else {
            let reasons = gathered.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            print("added \(report.added), replaced \(report.replaced), unchanged \(report.unchanged), skipped \(skipped)"
                  + (reasons.isEmpty ? "" : " (\(reasons))") + (prune ? ", pruned \(pruned)" : "")
                  + String(format: " in %.2f s; %d documents in %@", seconds, total, index.db))
        }
    }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find the documents nearest to a text, a stored document, or a file of queries.",
        discussion: """
        --queries FILE.jsonl answers many queries in one batch: one JSON line per query, \
        {"query_id", "results": [{"id", "distance"}, ...]}, query_id being the query's "id" field.
        """
    )

    @OptionGroup var index: DocumentIndexOptions
    @Option(name: .short, help: "Results per query.") var k: Int = 10
    @Option(help: "Return every document within this Hamming distance instead of the k nearest.") var radius: Int?
    @Option(help: ArgumentHelp("Search with a stored document's code (more like this).", valueName: "id")) var like: String?
    @Option(help: ArgumentHelp("JSONL queries ({\"id\", \"text\"} per line).", valueName: "file")) var queries: String?
    @Option(name: .customLong("text-field"), help: "Query JSONL field holding the text.") var textField: String = "text"
    @Flag(help: "For each hit, show the bits (questions) on which it and the query differ.") var explain = false
    @Flag(help: "Print JSON.") var json = false
    @Argument(help: "Query text.") var text: [String] = []

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1 (got \(k))") }
        if let radius, radius < 0 { throw ValidationError("--radius must be >= 0 (got \(radius))") }
        let modes = [!text.isEmpty, like != nil, queries != nil].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of: a query text, --like ID, --queries FILE") }
        if radius != nil && (queries != nil || like != nil) { throw ValidationError("--radius goes with a query text only") }
        if explain && queries != nil { throw ValidationError("--explain goes with a single query (text or --like)") }
    }

    func run() throws {
        let target = try DocumentIndex.open(at: index.db, readOnly: true)
        if let queries {
            let docs = try Corpus.readJSONL(queries, textField: textField)
            let results = try target.search(texts: docs.map(\.text), k: k, fields: false)
            var out = ""
            for (doc, hits) in zip(docs, results) {
                out += JSONText.queryResult(queryID: doc.id, hits: hits.map { ($0.id, $0.distance) }) + "\n"
                if out.utf8.count > 1 << 20 { FileHandle.standardOutput.write(Data(out.utf8)); out = "" }
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            return
        }
        let query = text.joined(separator: " ")
        let hits: [SearchHit]
        if let like { hits = try target.search(like: like, k: k) }
        else if let radius {
            guard radius <= target.model.bits else {
                throw ValidationError("--radius must be at most the code width, \(target.model.bits) (got \(radius))")
            }
            hits = try target.search(query, radius: radius)
        } else { hits = try target.search(query, k: k) }
        if json {
            print(try jsonLine(["query": like.map { "like:" + $0 } ?? query,
                                "results": hits.map { ["id": $0.id, "distance": $0.distance, "snippet": $0.fields["snippet"] ?? ""] }]))
            return
        }
        if hits.isEmpty { print("no results") }
        let queryCode = try like.map { id in try target.store.code(for: id) } ?? target.model.encode(query)
        let questions = explain ? BitExplanation.explain(target.model, top: 3) : []
        for (rank, hit) in hits.enumerated() {
            let snippet = (hit.fields["snippet"] ?? "").prefix(100)
            print("\(rank + 1). d=\(hit.distance)  \(hit.id)  \(snippet)")
            guard explain, let queryCode, let code = try target.store.code(for: hit.id) else { continue }
            let differing = (0..<code.bits).filter { code[bit: $0] != queryCode[bit: $0] }
            print("   agree on \(code.bits - differing.count) of \(code.bits) questions; differ on \(differing.count)"
                  + (differing.isEmpty ? "" : ", first ones:"))
            for b in differing.prefix(5) {
                let q = questions[b]
                let yes = q.yes.map(\.term).joined(separator: ", "), no = q.no.map(\.term).joined(separator: ", ")
                print("     bit \(b) (yes: \(yes) | no: \(no)): query \(queryCode[bit: b] ? "yes" : "no"), hit \(code[bit: b] ? "yes" : "no")")
            }
        }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every document as JSONL: id, code (hex), stored fields."
    )

    @OptionGroup var index: DocumentIndexOptions
    @Option(help: "Output format (jsonl).") var format: String = "jsonl"

    func validate() throws {
        guard format == "jsonl" else { throw ValidationError("--format must be jsonl (got \(format))") }
    }

    func run() throws {
        let store = try CodeIndex.open(at: index.db, readOnly: true)
        var buffer = ""
        try store.forEachRecord { id, metadata, code in
            let fields = (try? JSONSerialization.jsonObject(with: Data(metadata)) as? [String: Any]) ?? [:]
            buffer += try jsonLine(["id": id, "code": code.hex, "metadata": fields]) + "\n"
            if buffer.utf8.count > 1 << 20 { FileHandle.standardOutput.write(Data(buffer.utf8)); buffer = "" }
            return true
        }
        FileHandle.standardOutput.write(Data(buffer.utf8))
    }
}
