import Foundation
import Training
import TwentyQ

/// `index --train`: a model trained on the documents being indexed, before a new index is made
/// with it, and what it gains over the shipped model on those same documents.
///
/// The gain is measured the way a person searches, without labels: for up to 300 documents
/// (evenly spaced), the first line cut to its first 8 words is a query, and the question is
/// whether the document is among the first 10 that `search --rescore none` answers over up to
/// 5,000 documents, each model in a temporary index of its own: codes alone, no lexical stage,
/// so this is what the model contributes, scored exactly as search scores a typed query (its
/// query bits against the documents', `TextEncoding.rankedQueries`; until 2026-12-04 the probe
/// took the Hamming distance over all bits, which search does not do for a typed query).
struct OwnModel {
    /// The documents trained on: all of those indexed, or an evenly spaced sample of them
    /// (`index --train-sample`).
    let documents: [Document]
    /// How many documents are indexed.
    let total: Int
    let epochs: Int
    let threads: Int

    init(documents: [Document], of total: Int, epochs: Int, threads: Int) {
        self.documents = documents
        self.total = total
        self.epochs = epochs
        self.threads = threads
    }

    /// Trains with the default settings (256 bits, ternary weights, seed 42; `epochs`), reporting each
    /// stage on stderr as it begins and every epoch as it ends, then appends 768 query bits
    /// whose bucket IDFs come from the same documents, as the shipped model has.
    func train() throws -> EncoderModel {
        var config = TrainingConfig()
        config.bits = 256
        config.threads = threads
        config.epochs = epochs
        let which = documents.count < total ? "\(documents.count) of \(total) documents (evenly spaced; --train-sample)"
            : documents.count == 1 ? "1 document" : "\(documents.count) documents"
        say("training a model on \(which): vocabulary and nearest-neighbour graph first, then \(config.epochs) epochs")
        let trained: EncoderModel
        do {
            trained = try Trainer(config: config).train(texts: documents.map(\.text), progress: reportProgress, stages: StageReporter().callAsFunction)
        } catch TrainingError.emptyCorpus(let count, let usable, let terms) {
            // In `index`'s words: it has no --min-df, and the way on is to index without --train.
            throw InputError("too few documents to train a model on: \(count) trained on, \(usable) with words that at least "
                             + "\(config.minDocumentFrequency) of them hold, \(terms) such words. Index them with the shipped model "
                             + "(leave out --train), or give more documents" + (documents.count < total ? " (a larger --train-sample)" : ""))
        }
        let source = documents.count < total ? "\(documents.count) of the \(total) documents indexed" : "the \(documents.count) documents indexed"
        return trained.withQueryBits(fittedOn: documents.lazy.map(\.text), source: source)
    }

    /// Coverage and first-line search of the trained and the default model, as printable
    /// fields.
    /// - Throws: the errors of making, filling or searching a temporary index (in `TMPDIR`).
    func comparison(trained: EncoderModel, shipped: EncoderModel) throws -> [String: Any] {
        let step = max(1, documents.count / 5000)
        let pool = stride(from: 0, to: documents.count, by: step).map { Document(id: documents[$0].id, text: documents[$0].text) }
        let queryStep = max(1, pool.count / 300)
        let queried = stride(from: 0, to: pool.count, by: queryStep).compactMap { row -> (id: String, query: String)? in
            let firstLine = pool[row].text.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) } ?? ""
            let words = firstLine.split(whereSeparator: \.isWhitespace).prefix(8).joined(separator: " ")
            return words.isEmpty ? nil : (pool[row].id, words)
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("twentyq-probe-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        func measure(_ model: EncoderModel, _ name: String) throws -> (coverage: Double, found: Double) {
            let coverage = model.tokenCoverage(pool.lazy.map(\.text))
            guard !queried.isEmpty else { return (coverage, 0) }
            let index = try DocumentIndex.create(at: scratch + "/" + name, model: model)
            try index.add(pool, batch: 1_000, threads: threads)
            let results = try index.search(texts: queried.map(\.query), k: 10, ranking: RankingOptions(rescoring: .none),
                                           fields: false, threads: threads)
            let found = zip(queried, results).filter { q, r in r.hits.contains { $0.id == q.id } }.count
            return (coverage, Double(found) / Double(queried.count))
        }
        let mine = try measure(trained, "own"), theirs = try measure(shipped, "shipped")
        return ["queries": queried.count, "pool": pool.count,
                "coverage": mine.coverage, "default_coverage": theirs.coverage,
                "first_line_found_at_10": mine.found, "default_first_line_found_at_10": theirs.found]
    }

    func say(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}
