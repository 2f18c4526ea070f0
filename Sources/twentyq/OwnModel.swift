import Foundation
import Training
import TwentyQ

/// `index --train`: a model trained on the documents being indexed, before a new index is made
/// with it, and what it gains over the shipped model on those same documents.
///
/// The gain is measured the way a person searches, without labels: for up to 300 documents
/// (evenly spaced), the first line cut to its first 8 words is a query, and the question is
/// whether the document's own code is among the 10 nearest to the query's code, over up to
/// 5,000 documents. Codes alone, no lexical stage: this is what the model itself contributes.
struct OwnModel {
    let documents: [Document]
    let epochs: Int
    let threads: Int

    /// Trains with the default settings (256 bits, ternary weights, seed 42; `epochs`), reporting each
    /// stage on stderr as it begins and every epoch as it ends, then appends 768 query bits
    /// whose bucket IDFs come from the same documents, as the shipped model has.
    func train() throws -> EncoderModel {
        var config = TrainingConfig()
        config.bits = 256
        config.threads = threads
        config.epochs = epochs
        say("training a model on \(documents.count) documents: vocabulary and nearest-neighbour graph first, then \(config.epochs) epochs")
        let trained = try Trainer(config: config).train(texts: documents.map(\.text)) { reportProgress($0) }
        return trained.withQueryBits(fittedOn: documents.lazy.map(\.text), source: "the \(documents.count) documents indexed")
    }

    /// Coverage and first-line search of the trained and the default model, as printable
    /// fields.
    func comparison(trained: EncoderModel, shipped: EncoderModel) -> [String: Any] {
        let step = max(1, documents.count / 5000)
        let pool = stride(from: 0, to: documents.count, by: step).map { documents[$0] }
        let queryStep = max(1, pool.count / 300)
        let queried = stride(from: 0, to: pool.count, by: queryStep).compactMap { row -> (Int, String)? in
            let firstLine = pool[row].text.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) } ?? ""
            let words = firstLine.split(whereSeparator: \.isWhitespace).prefix(8).joined(separator: " ")
            return words.isEmpty ? nil : (row, words)
        }
        func measure(_ model: EncoderModel) -> (coverage: Double, found: Double) {
            let coverage = model.tokenCoverage(pool.lazy.map(\.text))
            guard !queried.isEmpty, var matrix = try? CodeMatrix(bits: model.bits) else { return (coverage, 0) }
            for code in model.encode(pool.map(\.text), threads: threads) { try? matrix.append(code) }
            var found = 0
            for (row, query) in queried {
                guard let distances = try? HammingSearch.distances(from: model.encode(query), to: matrix) else { continue }
                let own = distances[row]
                // Rank of the document: codes strictly nearer, then ties before it in order.
                let nearer = distances.indices.filter { distances[$0] < own || (distances[$0] == own && $0 < row) }.count
                if nearer < 10 { found += 1 }
            }
            return (coverage, Double(found) / Double(queried.count))
        }
        let mine = measure(trained), theirs = measure(shipped)
        return ["queries": queried.count, "pool": pool.count,
                "coverage": mine.coverage, "default_coverage": theirs.coverage,
                "first_line_found_at_10": mine.found, "default_first_line_found_at_10": theirs.found]
    }

    func say(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}
