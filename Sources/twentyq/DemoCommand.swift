import ArgumentParser
import Foundation
import Ingest
import TwentyQ

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Index the shipped sample (3,000 Debian fortunes) with the default model and search it.",
        discussion: "Needs nothing but this checkout: the model is Data/default.tqm, the sample Data/sample/."
    )

    @Option(help: ArgumentHelp("Keep the demo index in this new directory (it must not exist yet); by default the demo uses a temporary one and removes it.", valueName: "dir")) var keep: String?
    @Option(name: .short, help: "Results per query.") var k: Int = 3
    @Option(help: "Search for this text instead of the built-in queries (repeatable).") var query: [String] = []

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1 (got \(k))") }
        if let keep, FileManager.default.fileExists(atPath: keep) {
            throw ValidationError("--keep \(keep) exists; the demo writes only to a new directory (choose another path)")
        }
    }

    func run() throws {
        guard let sample = DefaultModel.resource("sample/fortunes-3000.jsonl") else {
            throw ModelFileError.unreadable(path: "Data/sample/fortunes-3000.jsonl", reason: "the shipped sample was not found next to this twentyq")
        }
        let model = try DefaultModel.load()
        let docs = try Corpus.readJSONL(sample)
        // Only ever its own index: a new temporary directory, removed at the end, or --keep DIR.
        let path = keep ?? NSTemporaryDirectory() + "twentyq-demo-\(getpid())-\(UUID().uuidString)"
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: path) } }
        let index = try DocumentIndex.open(at: path, model: model)

        let start = Date()
        let report = try index.add(docs.map { Document(id: $0.id, text: $0.text) })
        print(String(format: "indexed %d fortunes (%d new) with the default %d-bit %@ model in %.2f s",
                     docs.count, report.added, model.bits, model.config.weights.rawValue, Date().timeIntervalSince(start))
              + (keep.map { " -> \($0)" } ?? ""))

        let queries = query.isEmpty
            ? ["computers and programming languages", "love and marriage", "politics and the government", "drinking beer in a bar"]
            : query
        for text in queries {
            let searchStart = Date()
            let result = try index.search(texts: [text], k: k, threads: 1)[0]
            print(String(format: "\nquery: %@  (%.1f ms)", text, Date().timeIntervalSince(searchStart) * 1000)
                  + (result.lexicalOnly ? "  [the model knows none of these words: lexical matches]" : ""))
            if result.hits.isEmpty { print("  no results") }
            for hit in result.hits {
                print("  d=\(hit.distance)  \(TerminalText.safe(hit.id))  \(TerminalText.safe(snippet(hit.fields["snippet"] ?? "")))")
            }
        }
    }

    /// The first 100 characters of a stored snippet.
    func snippet(_ text: String) -> String {
        text.count > 100 ? String(text.prefix(100)) + "..." : text
    }
}
