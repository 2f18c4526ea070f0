import ArgumentParser
import Foundation
import Ingest
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder

struct BenchEncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Time text encoding: documents per second with a model, on all cores.",
        discussion: "Reads the corpus first; the time covers featurizing and encoding only (the best of --runs)."
    )

    @Option(help: ArgumentHelp("JSONL corpus (.gz allowed).", valueName: "file")) var corpus: String
    @Option(name: .customLong("text-field"), help: "Field holding the text.") var textField: String = "text"
    @Option(help: ArgumentHelp("Model file (default: the shipped model).", valueName: "file")) var model: String?
    @Option(help: "Threads (default: all cores).") var threads: Int = SearchOptions.onlineCores
    @Option(help: "Timed runs; the fastest is reported.") var runs: Int = 3
    @Option(help: "Use at most this many documents (0 = all).") var limit: Int = 0
    @Flag(help: "Drop the header block (up to the first blank line) of each text, as for 20 Newsgroups.") var stripHeaders = false
    @Option(help: "What to time: tokens (tokenising), features (tokens and TF-IDF), or all (codes).") var stage: EncodeStage = .all
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard threads >= 1, runs >= 1, limit >= 0 else { throw ValidationError("--threads and --runs must be at least 1, --limit at least 0") }
    }

    func run() throws {
        let encoder = try loadModel(model)
        var texts = try Corpus.readJSONL(corpus, textField: textField).map(\.text)
        if stripHeaders { texts = texts.map { t in t.range(of: "\n\n").map { String(t[$0.upperBound...]) } ?? t } }
        if limit > 0 { texts = Array(texts.prefix(limit)) }
        var best = Double.infinity
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            switch stage {
            case .tokens: parallelFor(iterations: threads) { t in for i in stride(from: t, to: texts.count, by: threads) { _ = encoder.config.featurizer.terms(texts[i]) } }
            case .features: parallelFor(iterations: threads) { t in for i in stride(from: t, to: texts.count, by: threads) { _ = encoder.features(texts[i]) } }
            case .all: _ = encoder.encode(texts, threads: threads)
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let object: [String: Any] = [
            "documents": texts.count, "threads": threads, "seconds": best, "docs_per_second": Double(texts.count) / best,
            "stage": stage.rawValue, "bits": encoder.bits, "weights": encoder.config.weights.rawValue, "model": model ?? "default",
        ]
        print(json ? try jsonLine(object) : String(format: "%d documents in %.3f s: %.0f documents/s (%d threads, %@ %d-bit model)",
                                                   texts.count, best, Double(texts.count) / best, threads,
                                                   encoder.config.weights.rawValue, encoder.bits))
    }
}

/// The model at `path`, or the shipped default.
func loadModel(_ path: String?) throws -> EncoderModel {
    if let path { return try ModelFile.read(path) }
    return try DefaultModel.load()
}

/// `bench encode --stage`.
enum EncodeStage: String, CaseIterable, ExpressibleByArgument {
    case tokens, features, all
}
