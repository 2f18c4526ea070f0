import ArgumentParser
import Encoder
import Foundation
import Ingest
import TwentyQ

/// `twentyq model project`: a text model with query bits (`LexicalProjection`) appended, their
/// IDF learned from a corpus (the one the model was trained on, for the shipped model).
struct ModelProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Write a copy of a text model with query bits: signs of random projections of each text's hashed TF-IDF.",
        discussion: """
        The trained bits rank documents by documents; the query bits serve typed queries (the \
        codes alone, `search --rescore none`, score them by the query's own projections) and \
        know every word, including words outside the model's vocabulary. Only the IDF per hash \
        bucket is learned, from --corpus (JSONL with "text", or a folder). Codes of the new model \
        are --bits wider: re-index with it (docs/ENCODER.md, "Query bits").
        """
    )

    @Option(help: ArgumentHelp("Text model to extend (default: the shipped model).", valueName: "file")) var model: String?
    @Option(help: ArgumentHelp("JSONL corpus the bucket IDFs are learned from (one {\"id\", \"text\"} per line; .gz allowed): the one the model was trained on.", valueName: "file")) var corpus: String
    @Option(help: "Query bits (64 to 1024; trained and query bits together at most 1024).") var bits = ProjectionConfig().bits
    @Option(help: "log2 of the hash buckets terms fall into (10 to 24).") var bucketBits = ProjectionConfig().bucketBits
    @Option(help: "Seed of the random signs.") var seed: UInt64 = ProjectionConfig().seed
    @Option(help: ArgumentHelp("Where to write the new model.", valueName: "file")) var out: String

    func validate() throws {
        guard ProjectionConfig.supportedBits.contains(bits) else { throw ValidationError("--bits \(bits) is out of range: give 64 to 1024") }
        guard ProjectionConfig.supportedBucketBits.contains(bucketBits) else { throw ValidationError("--bucket-bits \(bucketBits) is out of range: give 10 to 24") }
    }

    func run() throws {
        let base = try loadModel(model)
        guard base.config.bits + bits <= 1024 else {
            throw ValidationError("--bits \(bits) after the model's \(base.config.bits) trained bits makes \(base.config.bits + bits); codes hold at most 1024: give --bits \(1024 - base.config.bits) or fewer")
        }
        let texts = try Corpus.readJSONL(corpus).map(\.text)
        guard !texts.isEmpty else { throw ValidationError("--corpus \(corpus) holds no text: give the corpus the model was trained on") }
        let projected = base.withQueryBits(fittedOn: texts, config: ProjectionConfig(bits: bits, bucketBits: bucketBits, seed: seed),
                                           source: "\(texts.count) texts of \((corpus as NSString).lastPathComponent)")
        try ModelFile.write(projected, to: out)
        FileHandle.standardError.write(Data("wrote \(out): \(base.config.bits) trained + \(bits) query bits = \(projected.bits) bits per code (\(try ModelFile.fingerprint(projected)))\n".utf8))
    }
}
