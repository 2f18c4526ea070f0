import ArgumentParser
import Foundation
import Training
import TwentyQ

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Index the shipped sample (3,000 Debian fortunes) with the default model and search it.",
        discussion: "Needs nothing but this checkout: the model is Data/default.tqm, the sample Data/sample/."
    )

    @Option(help: ArgumentHelp("Index directory (default: a fresh temporary one).", valueName: "dir")) var db: String?
    @Option(name: .short, help: "Results per query.") var k: Int = 3
    @Option(help: "Search for this text instead of the built-in queries (repeatable).") var query: [String] = []

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1 (got \(k))") }
    }

    func run() throws {
        guard let sample = DefaultModel.resource("sample/fortunes-3000.jsonl") else {
            throw ModelFileError.unreadable(path: "Data/sample/fortunes-3000.jsonl", reason: "the shipped sample was not found next to this twentyq")
        }
        let model = try DefaultModel.load()
        let docs = try Corpus.readJSONL(sample)
        let path = db ?? NSTemporaryDirectory() + "twentyq-demo-\(getpid())"
        if db == nil { try? FileManager.default.removeItem(atPath: path) }
        let index = try CodeIndex.openOrCreate(at: path, bits: model.bits, modelFingerprint: try ModelFile.fingerprint(model))

        let start = Date()
        let codes = model.encode(docs.map(\.text))
        let entries = try zip(docs, codes).map { doc, code in
            IndexEntry(id: doc.id, code: code, metadata: Array(try JSONSerialization.data(withJSONObject: ["text": doc.text])))
        }
        let summary = try index.add(entries)
        print(String(format: "indexed %d fortunes (%d new, %d replaced) with the default %d-bit %@ model in %.2f s -> %@",
                     docs.count, summary.added, summary.replaced, model.bits, model.config.weights.rawValue,
                     Date().timeIntervalSince(start), path))

        let queries = query.isEmpty
            ? ["computers and programming languages", "love and marriage", "politics and the government", "drinking beer in a bar"]
            : query
        for text in queries {
            let searchStart = Date()
            let hits = try index.nearest(to: try CodeMatrix(bits: model.bits, words: model.encode(text).words), k: k)[0]
            print(String(format: "\nquery: %@  (%.1f ms)", text, Date().timeIntervalSince(searchStart) * 1000))
            for hit in hits {
                print("  d=\(hit.distance)  \(hit.id)  \(snippet(try index.metadata(for: hit.id)))")
            }
        }
    }

    /// The first line-folded 100 characters of a stored document's text.
    func snippet(_ metadata: [UInt8]?) -> String {
        guard let metadata, let object = try? JSONSerialization.jsonObject(with: Data(metadata)) as? [String: Any],
              let text = object["text"] as? String else { return "" }
        let flat = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return flat.count > 100 ? String(flat.prefix(100)) + "..." : flat
    }
}
