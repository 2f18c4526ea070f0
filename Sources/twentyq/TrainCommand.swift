import ArgumentParser
import Foundation
import Ingest
import Training
import TwentyQ

/// Training flags shared by `train` and `eval`.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Weight format.") var weights: WeightFormat = .ternary
    @Option(help: "Hidden units.") var hidden: Int = TrainingConfig().hidden
    @Option(help: "Vocabulary size: the most document-frequent unigrams, then bigrams to fill it.") var vocabulary: Int = TrainingConfig().vocabularySize
    @Flag(inversion: .prefixedNo, help: "Adjacent-token bigrams as terms.") var bigrams = TrainingConfig().bigrams
    @Option(help: "Passes over the corpus.") var epochs: Int = TrainingConfig().epochs
    @Option(name: .customLong("batch-size"), help: "Documents per step.") var batchSize: Int = TrainingConfig().batchSize
    @Option(name: .customLong("lr"), help: "Peak learning rate (AdamW).") var learningRate: Float = TrainingConfig().learningRate
    @Option(help: "Objective: spectral (self-taught bits from the kNN graph), reconstruction (NASH-style), both.") var objective: Objective = TrainingConfig().objective
    @Option(help: "Spectral objective: neighbours per document in the kNN graph.") var neighbors: Int = TrainingConfig().neighbors
    @Flag(inversion: .prefixedNo, help: "Spectral objective: rotate the embedding by ITQ before thresholding.") var itq = TrainingConfig().itq
    @Option(help: "Weight of the bit-balance penalty.") var balance: Float = TrainingConfig().balanceWeight
    @Option(help: "Weight of the bit-decorrelation penalty.") var decorrelation: Float = TrainingConfig().decorrelationWeight
    @Option(name: .customLong("init-scale"), help: "Standard deviation of the first layer's initial latent weights.") var initScale: Float = TrainingConfig().inputInitScale
    @Option(name: .customLong("weight-decay"), help: "AdamW decoupled weight decay.") var weightDecay: Float = TrainingConfig().weightDecay
    @Option(help: "Seed for initialisation, shuffling and bit sampling.") var seed: UInt64 = TrainingConfig().seed
    @Option(help: "Threads for element-wise work (the model does not depend on it).") var threads: Int = SearchOptions.onlineCores

    func validate() throws {
        guard hidden >= 1, vocabulary >= 2, epochs >= 1, batchSize >= 1, threads >= 1 else {
            throw ValidationError("--hidden, --epochs, --batch-size and --threads must be at least 1, --vocabulary at least 2")
        }
        guard neighbors >= 1 else { throw ValidationError("--neighbors must be at least 1") }
        guard learningRate > 0 else { throw ValidationError("--lr must be positive (got \(learningRate))") }
        guard initScale > 0, initScale.isFinite else { throw ValidationError("--init-scale must be a positive number (got \(initScale))") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw ValidationError("--weight-decay must be zero or positive (got \(weightDecay))") }
    }

    func config(bits: Int) -> TrainingConfig {
        var c = TrainingConfig()
        c.bits = bits
        c.weights = weights
        c.hidden = hidden
        c.vocabularySize = vocabulary
        c.bigrams = bigrams
        c.epochs = epochs
        c.batchSize = batchSize
        c.learningRate = learningRate
        c.balanceWeight = balance
        c.decorrelationWeight = decorrelation
        c.seed = seed
        c.inputInitScale = initScale
        c.weightDecay = weightDecay
        c.objective = objective
        c.neighbors = neighbors
        c.itq = itq
        c.threads = threads
        return c
    }
}

/// Prints one line per epoch on standard error.
/// Prints each training stage as it begins, with the seconds since the reporter was made (the
/// stages before the first epoch take minutes on a large corpus: the user sees where it is).
/// Progress within a stage is printed only when 10 s have passed since the last line, so that
/// a small corpus's training stays a few lines.
final class StageReporter {
    let start = Date()
    private var last = Date()

    func callAsFunction(_ stage: TrainingStage) {
        let now = Date()
        if case .eigenvectorIterations = stage, now.timeIntervalSince(last) < 10 { return }
        last = now
        FileHandle.standardError.write(Data(String(format: "%5.0fs  %@\n", now.timeIntervalSince(start), stage.description).utf8))
    }
}

func reportProgress(_ p: TrainingProgress) {
    // Only the parts of the loss that the objective has (the spectral one has no reconstruction).
    var parts: [String] = []
    if p.losses.reconstruction != 0 { parts.append(String(format: "rec %.4f", p.losses.reconstruction)) }
    if p.losses.targetBits != 0 { parts.append(String(format: "bits %.4f", p.losses.targetBits)) }
    parts.append(String(format: "bal %.5f dec %.5f", p.losses.balance, p.losses.decorrelation))
    let line = String(format: "epoch %d/%d  loss %.4f (%@)  balanced bits %.0f%%  |corr| %.3f  %.0fs\n",
                      p.epoch, p.epochs, p.losses.total, parts.joined(separator: " "), p.balancedBits * 100, p.meanAbsCorrelation, p.seconds)
    FileHandle.standardError.write(Data(line.utf8))
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a low-bit text encoder on a JSONL corpus (unsupervised).",
        discussion: """
        Quantisation-aware training: float latent weights, the chosen low-bit format in every \
        forward pass, straight-through gradients, re-quantisation after every AdamW step. The \
        objective needs no labels: reconstruct each document's words from its bits, keep every bit \
        near 50% ones, keep bits uncorrelated. The same --seed gives the same model file.
        """
    )

    @Option(help: ArgumentHelp("JSONL corpus (one {\"id\", \"text\"} per line; .gz allowed).", valueName: "file")) var corpus: String?
    @Option(help: ArgumentHelp("Train a vector encoder on these float vectors (npy, fvecs or JSONL) instead of a text encoder.", valueName: "file")) var vectors: String?
    @Option(help: "With --vectors: trained (default), or a baseline: sign, rotation, itq.") var method: VectorMethod = .trained
    @OptionGroup var vectorTraining: VectorTrainingOptions
    @Option(name: .customLong("text-field"), help: "Field holding the text.") var textField: String = "text"
    @Option(help: ArgumentHelp("With --corpus: a dense teacher's embeddings of the corpus, one per line in order (npy, fvecs or JSONL; Tools/teacher/embed.py makes them); the text encoder learns to predict the bits a vector encoder gives them (the teacher objective).", valueName: "file")) var teacher: String?
    @Option(help: ArgumentHelp("With --teacher: the vector encoder that turns teacher embeddings into target bits (default: ITQ fitted on them, seeded).", valueName: "file")) var teacherModel: String?
    @Option(help: "Code width in bits (16 to 1024).") var bits: Int = 256
    @Option(help: ArgumentHelp("Where to write the model.", valueName: "file")) var out: String
    @OptionGroup var training: TrainingOptions
    @Flag(help: "Print a JSON summary.") var json = false

    func validate() throws {
        guard (corpus == nil) != (vectors == nil) else { throw ValidationError("give exactly one of --corpus FILE.jsonl and --vectors FILE") }
        if teacher != nil || teacherModel != nil {
            guard corpus != nil, teacher != nil else { throw ValidationError("--teacher goes with --corpus (and --teacher-model with --teacher)") }
        }
        if vectors != nil {
            guard VectorModelConfig.supportedBits.contains(bits) else { throw ValidationError("--bits must be between 8 and 4096 (got \(bits))") }
        } else {
            guard ModelConfig.supportedBits.contains(bits) else { throw ValidationError("--bits must be between 16 and 1024 (got \(bits))") }
        }
    }

    func run() throws {
        if let vectors { return try trainVectors(vectors) }
        Stage.begin("reading \(corpus!)")
        let docs = try Corpus.readJSONL(corpus!, textField: textField)
        var config = training.config(bits: bits)
        let start = Date()
        var targets: [BinaryCode]?
        if let teacher {
            config.objective = .teacher
            targets = try teacherTargets(teacher, count: docs.count, config: config)
        }
        var last: TrainingProgress?
        FileHandle.standardError.write(Data("training on \(docs.count) documents: vocabulary\(config.objective == .spectral || config.objective == .both ? " and nearest-neighbour graph" : "") first, then \(config.epochs) epochs\n".utf8))
        let model = try Trainer(config: config).train(texts: docs.map(\.text), targets: targets, progress: { p in
            reportProgress(p)
            last = p
        }, stages: StageReporter().callAsFunction)
        try ModelFile.write(model, to: out)
        let summary: [String: Any] = [
            "model": out, "fingerprint": try ModelFile.fingerprint(model), "bits": bits, "weights": config.weights.rawValue,
            "documents": docs.count, "vocabulary": model.vocabulary.count, "seconds": Date().timeIntervalSince(start),
            "weight_bytes": model.weightBytes, "balanced_bits": last?.balancedBits ?? 0,
            "mean_abs_correlation": last?.meanAbsCorrelation ?? 0,
        ]
        print(json ? try jsonLine(summary) : "wrote \(out) (\(bits) bits, \(config.weights.rawValue), \(model.vocabulary.count) terms) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
    }
}

extension TrainCommand {
    /// The target bits of the teacher objective: the teacher's embeddings (one per corpus line)
    /// through --teacher-model, or through ITQ fitted on them.
    func teacherTargets(_ file: String, count: Int, config: TrainingConfig) throws -> [BinaryCode] {
        let set = try VectorFile.read(file)
        guard set.count == count else {
            throw InputError("--teacher: \(file) holds \(set.count) vectors for \(count) corpus lines; give one embedding per line, in order")
        }
        let encoder: VectorEncoderModel
        if let teacherModel {
            encoder = try ModelFile.readVectors(teacherModel)
            guard encoder.dimensions == set.dimensions, encoder.bits == config.bits else {
                throw InputError("--teacher-model: \(teacherModel) turns \(encoder.dimensions)-dimensional vectors into \(encoder.bits) bits; the teacher gives \(set.dimensions) dimensions and --bits is \(config.bits)")
            }
        } else {
            guard config.bits <= set.dimensions else {
                throw InputError("--bits \(config.bits) is more than the teacher's \(set.dimensions) dimensions; give --teacher-model (a trained vector encoder) for wider codes")
            }
            FileHandle.standardError.write(Data("fitting ITQ (\(config.bits) bits) on \(set.count) teacher vectors\n".utf8))
            encoder = try VectorBaselines.itq(set, bits: config.bits, seed: config.seed)
        }
        let codes = encoder.encode(set, threads: config.threads)
        return (0..<codes.count).map { codes[$0] }
    }

    func trainVectors(_ file: String) throws {
        let set = try VectorFile.read(file)
        guard set.count >= 2 else { throw InputError("\(file) holds \(set.count) vector; training needs at least 2") }
        let start = Date()
        let model = try makeVectorModel(method: method, weights: training.weights, bits: bits, set: set, options: vectorTraining,
                                        learningRate: training.learningRate,
                                        seed: training.seed, threads: training.threads, progress: reportVectorProgress)
        try ModelFile.write(model, to: out)
        let seconds = Date().timeIntervalSince(start)
        let summary: [String: Any] = [
            "model": out, "fingerprint": try ModelFile.fingerprint(model), "bits": model.bits, "weights": model.config.weights.rawValue,
            "method": method.rawValue, "vectors": set.count, "dimensions": set.dimensions, "seconds": seconds, "weight_bytes": model.weightBytes,
            "hidden": model.config.hidden ?? 0,
        ]
        let layers = model.config.hidden.map { ", two layers through \($0) hidden" } ?? ""
        print(json ? try jsonLine(summary) : "wrote \(out) (\(model.bits) bits from \(set.dimensions) dimensions\(layers), \(method.rawValue), \(model.config.weights.rawValue)) in \(String(format: "%.1f", seconds)) s")
    }
}

extension Objective: ExpressibleByArgument {}
