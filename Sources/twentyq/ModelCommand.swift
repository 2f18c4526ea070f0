import ArgumentParser
import Foundation
import TwentyQ

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect a model (its configuration, what each bit asks) or give it query bits.",
        subcommands: [ModelInfoCommand.self, ModelExplainCommand.self, ModelProjectCommand.self]
    )
}

struct ModelInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Configuration, size and per-layer formats of a model.")

    @Argument(help: ArgumentHelp("Model file (default: the shipped model).", valueName: "file")) var file: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        if let file, case .vectors(let vectorModel) = try ModelFile.readAny(file) { return try describe(vectorModel, path: file) }
        let model = try loadModel(file)
        let path = file ?? DefaultModel.path() ?? "default"
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        let c = model.config
        let layers: [[String: Any]] = [
            ["name": "encoder.1", "rows": model.layer1.rows, "cols": model.layer1.cols, "format": model.layer1.format.rawValue,
             "bits_per_weight": model.layer1.format.bitsPerWeight, "bytes": model.layer1.byteCount],
            ["name": "encoder.2", "rows": model.layer2.rows, "cols": model.layer2.cols, "format": model.layer2.format.rawValue,
             "bits_per_weight": model.layer2.format.bitsPerWeight, "bytes": model.layer2.byteCount],
        ]
        if json {
            print(try jsonLine([
                "path": path, "fingerprint": try ModelFile.fingerprint(model), "bits": model.bits, "trained_bits": c.bits,
                "query_bits": c.projection?.bits ?? 0, "hidden": c.hidden,
                "weights": c.weights.rawValue, "vocabulary": model.vocabulary.count, "bigrams": c.featurizer.bigrams,
                "max_tokens": c.featurizer.maxTokens, "file_bytes": size, "weight_bytes": model.weightBytes,
                "layers": layers, "provenance": c.provenance,
            ]))
            return
        }
        print("""
        model        \(path)
        fingerprint  \(try ModelFile.fingerprint(model))
        code         \(model.bits) bits\(c.projection.map { ": \(c.bits) trained, then \($0.bits) query bits (signs of hashed TF-IDF, 2^\($0.bucketBits) buckets, seed \($0.seed))" } ?? "")
        network      \(model.vocabulary.count) terms -> \(c.hidden) hidden (ReLU) -> \(c.bits) bits
        weights      \(c.weights.rawValue) (\(c.weights.bitsPerWeight) bits per weight)
        featurizer   unigrams\(c.featurizer.bigrams ? " + bigrams" : ""), first \(c.featurizer.maxTokens) tokens, tokens up to \(c.featurizer.maxTokenLength) characters
        size         \(formatBytes(size)) on disk, \(formatBytes(model.weightBytes)) of weights
        """)
        for layer in layers {
            print("  \(layer["name"]!): \(layer["rows"]!) x \(layer["cols"]!) \(layer["format"]!), \(formatBytes(layer["bytes"] as! Int))")
        }
        for (key, value) in c.provenance.sorted(by: { $0.key < $1.key }) { print("  \(key): \(value)") }
    }
}

extension ModelInfoCommand {
    func describe(_ model: VectorEncoderModel, path: String) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        let c = model.config
        if json {
            print(try jsonLine([
                "path": path, "kind": "vectors", "fingerprint": try ModelFile.fingerprint(model), "bits": c.bits, "dimensions": c.dimensions,
                "weights": c.weights.rawValue, "method": c.method.rawValue, "metric": c.metric.rawValue, "file_bytes": size,
                "weight_bytes": model.weightBytes, "hidden": c.hidden ?? 0, "provenance": c.provenance,
            ]))
            return
        }
        let layers = c.hidden.map { " -> \($0) hidden (float activations) -> \(c.bits) bits, two linear layers" } ?? " -> \(c.bits) bits, one linear layer"
        print("""
        model        \(path)
        kind         vectors (float vectors to codes)
        fingerprint  \(try ModelFile.fingerprint(model))
        code         \(c.bits) bits
        network      \(c.dimensions) dimensions\(c.metric == .cosine ? " (L2-normalised)" : "")\(layers)
        method       \(c.method.rawValue), similarity \(c.metric.rawValue)
        weights      \(c.weights.rawValue) (\(c.weights.bitsPerWeight) bits per weight)
        size         \(formatBytes(size)) on disk, \(formatBytes(model.weightBytes)) of weights
        """)
        for (key, value) in c.provenance.sorted(by: { $0.key < $1.key }) { print("  \(key): \(value)") }
    }
}

struct ModelExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show what each bit asks: the terms that push it most towards yes and towards no.",
        discussion: "Each term is probed as a one-word document; its push is logit(term) - logit(empty text)."
    )

    @Argument(help: ArgumentHelp("Model file (default: the shipped model).", valueName: "file")) var file: String?
    @Option(help: "Explain only this bit (0-based).") var bit: Int?
    @Option(help: "Terms shown each way.") var top: Int = 8
    @Flag(help: "Print one JSON object per bit.") var json = false

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1 (got \(top))") }
        if let bit, bit < 0 { throw ValidationError("--bit must be >= 0 (got \(bit))") }
    }

    func run() throws {
        let model = try loadModel(file)
        if let bit, bit >= model.bits {
            throw ValidationError("--bit \(bit) is out of range: the model has bits 0 to \(model.bits - 1)")
        }
        for e in BitExplanation.explain(model, bits: bit.map { [$0] }, top: top) {
            if json {
                print(try jsonLine([
                    "bit": e.bit,
                    "yes": e.yes.map { ["term": $0.term, "push": Double($0.push)] },
                    "no": e.no.map { ["term": $0.term, "push": Double($0.push)] },
                ]))
            } else {
                let fmt = { (ts: [BitExplanation.Term]) in ts.map { String(format: "%@ %+.2f", $0.term, $0.push) }.joined(separator: ", ") }
                print("bit \(e.bit)\n  yes: \(fmt(e.yes))\n  no:  \(fmt(e.no))")
            }
        }
    }
}
