import BinaryCodes
import Encoder
import Foundation

/// What the trainer reports after each epoch.
public struct TrainingProgress: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var step: Int
    public var losses: Losses
    /// Share of bits whose frequency over a sample of the corpus lies in [0.35, 0.65].
    public var balancedBits: Double
    /// Mean absolute pairwise correlation between bits over the sample.
    public var meanAbsCorrelation: Double
    public var seconds: Double
}

/// A stage of training before its epochs, reported as it begins: on 50,000 passages they take
/// minutes before the first epoch ends (docs/ENCODER.md, "Training").
public enum TrainingStage: Sendable, Equatable, CustomStringConvertible {
    /// The texts' terms, and the vocabulary chosen from them.
    case vocabulary(texts: Int)
    /// The spectral objective's nearest-neighbour graph under TF-IDF cosine.
    case neighbourGraph(documents: Int, neighbours: Int)
    /// Its leading eigenvectors, by subspace iteration.
    case eigenvectors(count: Int, iterations: Int)
    /// Iterations of that stage done so far (told after every tenth; the longest stage).
    case eigenvectorIterations(done: Int, of: Int)
    /// The ITQ rotation of the embedding.
    case rotation(iterations: Int)
    /// The epochs (each reported by `TrainingProgress` as it ends).
    case epochs(Int)

    public var description: String {
        switch self {
        case .vocabulary(let texts): return "terms of \(texts) texts and the vocabulary"
        case .neighbourGraph(let documents, let neighbours): return "nearest-neighbour graph of \(documents) documents (\(neighbours) each)"
        case .eigenvectors(let count, let iterations): return "\(count) leading eigenvectors of the graph (\(iterations) iterations)"
        case .eigenvectorIterations(let done, let of): return "eigenvectors: \(done) of \(of) iterations"
        case .rotation(let iterations): return "ITQ rotation (\(iterations) iterations)"
        case .epochs(let epochs): return "\(epochs) epochs"
        }
    }
}

/// Quantisation-aware training of an `EncoderModel` from raw texts, unsupervised.
///
/// Same config, texts and machine give the same model, byte for byte: every random draw comes
/// from `config.seed`, element-wise work is split by rows (each computed identically whatever
/// the split), and OpenBLAS runs on one thread.
public struct Trainer {
    public let config: TrainingConfig

    public init(config: TrainingConfig) { self.config = config }

    public var featurizer: Featurizer {
        Featurizer(maxTokens: config.maxTokens, bigrams: config.bigrams)
    }

    /// Learns the vocabulary and turns texts into training documents (those with no known term
    /// are left out).
    public func prepare(_ texts: [String]) -> (Vocabulary, [TrainingDocument]) {
        let (vocabulary, docs, _) = prepareKeepingRows(texts)
        return (vocabulary, docs)
    }

    /// `prepare`, also returning the row of `texts` each training document came from.
    func prepareKeepingRows(_ texts: [String]) -> (Vocabulary, [TrainingDocument], [Int]) {
        let featurizer = self.featurizer
        var terms = [[String]](repeating: [], count: texts.count)
        terms.withUnsafeMutableBufferPointer { out in
            let workers = max(1, min(config.threads, texts.count / 256))
            parallelFor(iterations: workers) { w in
                for i in stride(from: w, to: texts.count, by: workers) { out[i] = featurizer.terms(texts[i]) }
            }
        }
        let vocabulary = Vocabulary.build(documents: terms, size: config.vocabularySize,
                                          minDocumentFrequency: config.minDocumentFrequency,
                                          maxDocumentRatio: config.maxDocumentRatio)
        var rows: [Int] = []
        let docs = terms.enumerated().compactMap { row, t -> TrainingDocument? in
            let features = vocabulary.tfidf(t)
            guard !features.isEmpty else { return nil }
            let counts = vocabulary.counts(t)
            let total = counts.reduce(Float(0)) { $0 + $1.1 }
            rows.append(row)
            return TrainingDocument(features: features,
                                    target: SparseVector(indices: counts.map(\.0), values: counts.map { $0.1 / total }))
        }
        return (vocabulary, docs, rows)
    }

    /// Trains on `texts` and returns the model. `progress` is called after every epoch, `stages`
    /// as each stage before the epochs begins (after `progress`, so that a trailing closure is
    /// still the epochs' report).
    /// - Throws: `TrainingError` when the corpus yields no usable document.
    /// - Parameter targets: with the `.teacher` objective, the target bits of each text (one code
    ///   per text, `config.bits` wide), e.g. a vector encoder's codes of a teacher's embeddings.
    public func train(texts: [String], targets: [BinaryCode]? = nil, progress: (TrainingProgress) -> Void = { _ in },
                      stages: (TrainingStage) -> Void = { _ in }) throws -> EncoderModel {
        try Dense.load()
        guard ModelConfig.supportedBits.contains(config.bits) else { throw TrainingError.badConfig("bits must be 16...1024 (got \(config.bits))") }
        guard config.hidden >= 1, config.batchSize >= 1, config.epochs >= 1 else {
            throw TrainingError.badConfig("hidden, batch size and epochs must be at least 1")
        }
        guard (config.objective == .teacher) == (targets != nil) else {
            throw TrainingError.badConfig("the teacher objective needs target codes, and only it uses them")
        }
        if let targets {
            guard targets.count == texts.count, targets.allSatisfy({ $0.bits == config.bits }) else {
                throw TrainingError.badConfig("\(targets.count) target codes for \(texts.count) texts; each must have \(config.bits) bits")
            }
        }
        stages(.vocabulary(texts: texts.count))
        var (vocabulary, docs, rows) = prepareKeepingRows(texts)
        if let targets {
            for (i, row) in rows.enumerated() { docs[i].targetBits = (0..<config.bits).map { targets[row][bit: $0] ? 1 : 0 } }
        }
        guard docs.count >= 2, vocabulary.count >= 2 else {
            throw TrainingError.emptyCorpus(documents: texts.count, usable: docs.count, terms: vocabulary.count)
        }
        let network = train(vocabulary: vocabulary, docs: docs, progress: progress, stages: stages)
        return export(network, vocabulary: vocabulary, documents: docs.count)
    }

    func train(vocabulary: Vocabulary, docs original: [TrainingDocument], progress: (TrainingProgress) -> Void,
               stages: (TrainingStage) -> Void = { _ in }) -> TrainingNetwork {
        var rng = SeededGenerator(seed: config.seed)
        var docs = original
        if config.objective.usesTargets && config.objective != .teacher {
            let targets = SpectralTargets.make(docs.map(\.features), vocabularySize: vocabulary.count, bits: config.bits,
                                               neighbors: config.neighbors, iterations: config.eigenIterations, itq: config.itq,
                                               seed: config.seed, threads: config.threads, stages: stages)
            for i in docs.indices { docs[i].targetBits = Array(targets[(i * config.bits) ..< ((i + 1) * config.bits)]) }
        }
        stages(.epochs(config.epochs))
        var unigram = [Float](repeating: 0, count: vocabulary.count)
        for d in docs { for (t, w) in zip(d.target.indices, d.target.values) { unigram[Int(t)] += w } }
        let total = unigram.reduce(0, +)
        unigram = unigram.map { $0 / max(total, 1e-9) }
        let network = TrainingNetwork(config: config, vocabularySize: vocabulary.count, unigram: unigram, rng: &rng)

        let stepsPerEpoch = (docs.count + config.batchSize - 1) / config.batchSize
        let totalSteps = stepsPerEpoch * config.epochs
        var order = Array(docs.indices)
        var step = 0
        let start = Date()
        for epoch in 1...config.epochs {
            order.shuffle(using: &rng)
            var sums = Losses()
            for batchStart in stride(from: 0, to: order.count, by: config.batchSize) {
                let batch = order[batchStart ..< min(order.count, batchStart + config.batchSize)].map { docs[$0] }
                let losses = network.lossAndGradients(batch[...], mode: config.stochasticBits ? .sample : .threshold, rng: &rng)
                step += 1
                let lr = learningRate(step: step, total: totalSteps)
                for param in network.trained { param.step(lr: lr, t: step, config: config) }
                sums.reconstruction += losses.reconstruction
                sums.targetBits += losses.targetBits
                sums.balance += losses.balance
                sums.decorrelation += losses.decorrelation
            }
            let k = Float(stepsPerEpoch)
            let stats = bitStatistics(network, docs: docs)
            progress(TrainingProgress(
                epoch: epoch, epochs: config.epochs, step: step,
                losses: Losses(reconstruction: sums.reconstruction / k, targetBits: sums.targetBits / k,
                               balance: sums.balance / k, decorrelation: sums.decorrelation / k),
                balancedBits: stats.balanced, meanAbsCorrelation: stats.correlation,
                seconds: Date().timeIntervalSince(start)))
        }
        return network
    }

    /// Linear warm-up, then cosine decay to `minLearningRateRatio` of the peak.
    func learningRate(step: Int, total: Int) -> Float {
        let peak = config.learningRate
        if step <= config.warmupSteps { return peak * Float(step) / Float(max(1, config.warmupSteps)) }
        let progress = Float(step - config.warmupSteps) / Float(max(1, total - config.warmupSteps))
        let floor = config.minLearningRateRatio
        return peak * (floor + (1 - floor) * 0.5 * (1 + cos(Float.pi * min(1, progress))))
    }

    /// Bit frequencies and correlations of the thresholded codes over up to 2,000 documents
    /// (every k-th, deterministic).
    func bitStatistics(_ network: TrainingNetwork, docs: [TrainingDocument]) -> (balanced: Double, correlation: Double) {
        let stride = max(1, docs.count / 2000)
        let sample = Swift.stride(from: 0, to: docs.count, by: stride).map { docs[$0] }
        var codes: [[Bool]] = []
        for chunk in Swift.stride(from: 0, to: sample.count, by: 256) {
            codes += network.logits(sample[chunk ..< min(sample.count, chunk + 256)]).map { $0.map { $0 > 0 } }
        }
        return BitStatistics(codes: codes).summary
    }

    func export(_ network: TrainingNetwork, vocabulary: Vocabulary, documents: Int) -> EncoderModel {
        let c = config
        let modelConfig = ModelConfig(bits: c.bits, hidden: c.hidden, weights: c.weights, featurizer: featurizer, provenance: [
            "objective": (c.objective == .teacher ? "teacher bits" : "unsupervised \(c.objective.rawValue)") + " + balance \(c.balanceWeight) + decorrelation \(c.decorrelationWeight)",
            "neighbors": String(c.neighbors),
            "documents": String(documents), "epochs": String(c.epochs), "batch": String(c.batchSize),
            "learning_rate": String(c.learningRate), "seed": String(c.seed), "vocabulary": String(vocabulary.count),
        ])
        return EncoderModel(
            config: modelConfig, vocabulary: vocabulary,
            layer1: PackedMatrix(quantizing: network.w1.latent.array, rows: vocabulary.count, cols: c.hidden, format: c.weights),
            bias1: network.b1.latent.array,
            layer2: PackedMatrix(quantizing: network.w2.latent.array, rows: c.bits, cols: c.hidden, format: c.weights),
            bias2: network.b2.latent.array)
    }
}

/// Why training could not start.
public enum TrainingError: Error, CustomStringConvertible {
    case emptyCorpus(documents: Int, usable: Int, terms: Int)
    case badConfig(String)
    /// OpenBLAS, which training loads on first use, is missing or incomplete.
    case blasUnavailable(String)

    public var description: String {
        switch self {
        case .blasUnavailable(let why):
            return why
        case .emptyCorpus(let documents, let usable, let terms):
            return "the corpus is too small to train on: \(documents) documents, \(usable) with known terms, vocabulary of \(terms) (terms need a document frequency of at least --min-df); give more text"
        case .badConfig(let why):
            return "invalid training settings: \(why)"
        }
    }
}

/// The "20 Questions" properties of a set of codes: balance and independence of the bits.
public struct BitStatistics: Sendable {
    /// Frequency of 1 per bit.
    public let frequencies: [Double]
    /// Mean absolute Pearson correlation over all pairs of distinct bits (0 for constant bits).
    public let meanAbsCorrelation: Double

    public init(codes: [[Bool]]) {
        let n = Double(max(1, codes.count)), b = codes.first?.count ?? 0
        var freq = [Double](repeating: 0, count: b)
        for c in codes { for j in 0..<b where c[j] { freq[j] += 1 } }
        freq = freq.map { $0 / n }
        var both = [Double](repeating: 0, count: b * b)
        for c in codes {
            let ones = (0..<b).filter { c[$0] }
            for x in ones { for y in ones { both[x * b + y] += 1 } }
        }
        var sum = 0.0, pairs = 0
        for x in 0..<b { for y in (x + 1)..<max(x + 1, b) {
            let cov = both[x * b + y] / n - freq[x] * freq[y]
            let den = (freq[x] * (1 - freq[x]) * freq[y] * (1 - freq[y])).squareRoot()
            sum += den > 0 ? abs(cov / den) : 0
            pairs += 1
        } }
        frequencies = freq
        meanAbsCorrelation = pairs > 0 ? sum / Double(pairs) : 0
    }

    /// Share of bits with frequency in [0.35, 0.65], and the mean absolute correlation.
    public var summary: (balanced: Double, correlation: Double) {
        let ok = frequencies.filter { $0 >= 0.35 && $0 <= 0.65 }.count
        return (Double(ok) / Double(max(1, frequencies.count)), meanAbsCorrelation)
    }
}
