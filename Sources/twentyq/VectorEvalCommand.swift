import ArgumentParser
import Foundation
import Training
import TwentyQ

/// Vector-training flags shared by `train --vectors` and `eval-vectors`.
struct VectorTrainingOptions: ParsableArguments {
    @Option(help: "Vector training: optimisation steps.") var steps: Int = VectorTrainingConfig().steps
    @Option(help: "Vector training: anchor vectors per step.") var anchors: Int = VectorTrainingConfig().anchors
    @Option(help: "Vector training: softmax temperature of the float similarities.") var temperature: Float = VectorTrainingConfig().teacherTemperature
    @Option(help: "Vector training: training vectors used at most (an evenly spaced sample).") var maxTrainingVectors: Int = VectorTrainingConfig().maxTrainingVectors
    @Option(help: "Vector training: float-nearest neighbours drawn into the pool per anchor.") var neighborsPerAnchor: Int = VectorTrainingConfig().neighborsPerAnchor
    @Option(help: "Vector training: random vectors in each step's pool.") var randomPool: Int = VectorTrainingConfig().randomPool
    @Option(help: "Vector training: norm of the Gaussian noise added to each anchor.") var anchorNoise: Float = VectorTrainingConfig().anchorNoise
    @Option(help: "Vector training: the starting projection, itq or sign (identity; bits <= dimensions).") var initialization: VectorInitialization = VectorInitialization(VectorTrainingConfig().initialization)
    @Option(name: .customLong("vector-hidden"), help: "Vector training: width of the first of two low-bit layers, 0 for one layer, or auto (2 x dimensions).") var hidden: String = "auto"
    @Option(help: "Similarity the codes imitate.") var metric: VectorMetric = .cosine

    func validate() throws {
        guard steps >= 1, anchors >= 2, maxTrainingVectors >= 2 else {
            throw ValidationError("--steps must be at least 1, --anchors and --max-training-vectors at least 2")
        }
        guard neighborsPerAnchor >= 0, randomPool >= 0, neighborsPerAnchor + randomPool >= 1 else {
            throw ValidationError("--neighbors-per-anchor and --random-pool must be >= 0, and not both 0")
        }
        guard temperature > 0 else { throw ValidationError("--temperature must be positive (got \(temperature))") }
        guard hidden == "auto" || Int(hidden).map({ $0 == 0 || VectorModelConfig.supportedHidden.contains($0) }) == true else {
            throw ValidationError("--vector-hidden must be auto, 0 (one layer) or a width in \(VectorModelConfig.supportedHidden) (got \(hidden))")
        }
    }

    /// - Note: `hidden` "auto" leaves `VectorTrainingConfig.hidden` nil (its default rule).
    func config(bits: Int, weights: WeightFormat, learningRate: Float?, seed: UInt64, threads: Int) -> VectorTrainingConfig {
        var c = VectorTrainingConfig()
        c.bits = bits
        c.weights = weights
        c.steps = steps
        c.anchors = anchors
        c.teacherTemperature = temperature
        c.maxTrainingVectors = maxTrainingVectors
        c.neighborsPerAnchor = neighborsPerAnchor
        c.randomPool = randomPool
        c.anchorNoise = anchorNoise
        c.initialization = initialization.method
        c.metric = metric
        c.hidden = Int(hidden)
        if let learningRate { c.learningRate = learningRate }
        c.seed = seed
        c.threads = threads
        return c
    }
}

/// Builds the encoder a method names: a baseline or a trained one.
func makeVectorModel(method: VectorMethod, weights: WeightFormat, bits: Int, set: VectorSet, options: VectorTrainingOptions,
                     learningRate: Float?, seed: UInt64, threads: Int, progress: ((VectorTrainingProgress) -> Void)?) throws -> VectorEncoderModel {
    let metric = options.metric
    switch method {
    case .sign:
        guard bits == set.dimensions else {
            throw ValidationError("the sign method gives one bit per dimension: --bits must be \(set.dimensions) (got \(bits))")
        }
        return VectorBaselines.sign(dimensions: set.dimensions, metric: metric)
    case .rotation:
        return VectorBaselines.rotation(dimensions: set.dimensions, bits: bits, seed: seed, metric: metric)
    case .itq:
        guard bits <= set.dimensions else {
            throw ValidationError("ITQ gives at most one bit per dimension: --bits must be at most \(set.dimensions) (got \(bits))")
        }
        return try VectorBaselines.itq(set, bits: bits, seed: seed, metric: metric)
    case .trained:
        let config = options.config(bits: bits, weights: weights, learningRate: learningRate, seed: seed, threads: threads)
        return try VectorTrainer(config: config).train(set, progress: progress)
    }
}

func reportVectorProgress(_ p: VectorTrainingProgress) {
    let line = String(format: "step %d/%d  loss %.4f  balanced bits %.0f%%  %.0fs\n", p.step, p.steps, p.loss, p.balancedBits * 100, p.seconds)
    FileHandle.standardError.write(Data(line.utf8))
}

struct VectorEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-vectors",
        abstract: "Recall@10 of the float top-10 under Hamming ranking, with and without rescoring.",
        discussion: """
        Encodes --database and --queries with each method at each width (training the trained ones \
        on the database) and reports tie-aware recall@10: a true top-10 neighbour counts when its \
        Hamming distance is no worse than the 10th smallest. With --oversample, also the recall after \
        re-ranking k x oversample candidates by exact similarity with vectors stored as --storage: \
        the Hamming-nearest (--shortlist 1), or the best by the asymmetric score among the \
        k x oversample x shortlist Hamming-nearest, as `twentyq search` rescores. Ground truth: --truth (ivecs, best first) or computed exactly. --query-rows names \
        database rows to use as queries (each excluded from its own results). One JSON object per line.
        """
    )

    @Option(help: ArgumentHelp("Database vectors (npy, fvecs or JSONL); trained methods train on them.", valueName: "file")) var database: String
    @Option(help: ArgumentHelp("Query vectors.", valueName: "file")) var queries: String?
    @Option(help: ArgumentHelp("Database rows to use as queries, one 0-based row per line.", valueName: "file")) var queryRows: String?
    @Option(help: ArgumentHelp("Ground truth (ivecs): the float-nearest database rows per query, best first.", valueName: "file")) var truth: String?
    @Option(help: "Evaluate the first N queries only.") var limitQueries: Int?
    @Option(help: ArgumentHelp("Fit ITQ and train the trained methods on these vectors instead of the database (never include the queries).", valueName: "file")) var trainVectors: String?
    @Option(help: "Comma-separated code widths.") var bits: String = "64,128,256"
    @Option(help: "Comma-separated methods: sign, rotation, itq, trained.") var methods: String = "sign,rotation,itq,trained"
    @Option(help: "Comma-separated weight formats for the trained method.") var weights: String = "ternary"
    @Option(help: "Comma-separated oversampling factors for rescoring (empty: none).") var oversample: String = "2,4,8"
    @Option(help: "Comma-separated shortlist factors for rescoring: Hamming-nearest codes per rescored candidate from which the asymmetric score picks (1: the Hamming-nearest are rescored).") var shortlist: String = "1,\(VectorIndex.defaultShortlist)"
    @Option(help: "Comma-separated stored-vector formats for rescoring: int8, float16, float32.") var storage: String = "float32,int8"
    @Option(help: "Label for the output lines.") var label: String = ""
    @Option(name: .customLong("lr"), help: "Vector training: peak learning rate.") var learningRate: Float?
    @Option(help: "Seed.") var seed: UInt64 = 42
    @Option(help: "Threads.") var threads: Int = SearchOptions.onlineCores
    @Option(help: ArgumentHelp("Save each model here as LABEL-METHOD-WEIGHTS-BITS.tqm.", valueName: "dir")) var saveModels: String?
    @OptionGroup var training: VectorTrainingOptions

    static func list<T>(_ text: String, _ parse: (String) -> T?) -> [T]? {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let parsed = items.compactMap(parse)
        return parsed.count == items.count ? parsed : nil
    }

    func validate() throws {
        guard (queries == nil) != (queryRows == nil) else { throw ValidationError("give exactly one of --queries FILE and --query-rows FILE") }
        guard let b = Self.list(bits, { Int($0) }), !b.isEmpty, b.allSatisfy(VectorModelConfig.supportedBits.contains) else {
            throw ValidationError("--bits must list widths between 8 and 4096 (got \(bits))")
        }
        guard Self.list(methods, VectorMethod.init(rawValue:)) != nil else {
            throw ValidationError("--methods must list sign, rotation, itq or trained (got \(methods))")
        }
        guard Self.list(weights, WeightFormat.init(rawValue:)) != nil else {
            throw ValidationError("--weights must list \(WeightFormat.allCases.map(\.rawValue).joined(separator: ", ")) (got \(weights))")
        }
        guard let l = Self.list(shortlist, { Int($0) }), !l.isEmpty, l.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--shortlist must list factors >= 1 (got \(shortlist))")
        }
        guard let o = Self.list(oversample, { Int($0) }), o.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--oversample must list factors >= 1 (got \(oversample))")
        }
        guard Self.list(storage, VectorStorage.init(rawValue:)) != nil else {
            throw ValidationError("--storage must list int8, float16 or float32 (got \(storage))")
        }
    }

    func run() throws {
        let db = try VectorFile.read(database)
        if let queryRows {
            let text = try String(contentsOfFile: queryRows, encoding: .utf8)
            let rows = text.split(whereSeparator: \.isNewline).compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            if let bad = rows.first(where: { $0 < 0 || $0 >= db.count }) {
                throw InputError("\(queryRows): row \(bad) is not a database row (0..<\(db.count))")
            }
            try evaluate(db: db, querySet: VectorSet(dimensions: db.dimensions, values: rows.flatMap { db.row($0) }), exclude: rows)
        } else {
            try evaluate(db: db, querySet: try VectorFile.read(queries!, dimensions: db.dimensions), exclude: nil)
        }
    }

    func evaluate(db: VectorSet, querySet: VectorSet, exclude: [Int]?) throws {
        var querySet = querySet, exclude = exclude
        var truthLists: [[Int32]]
        let metric = training.metric
        if let truth {
            truthLists = try VectorFile.readIvecs(truth)
            guard truthLists.count == querySet.count else {
                throw InputError("\(truth) has \(truthLists.count) lists for \(querySet.count) queries")
            }
        } else {
            truthLists = try VectorEvaluation.exactNeighbors(database: db, queries: querySet, metric: metric, k: 10, exclude: exclude, threads: threads)
        }
        if let limit = limitQueries, limit < querySet.count {
            querySet = VectorSet(dimensions: db.dimensions, values: Array(querySet.values[0 ..< limit * db.dimensions]))
            truthLists = Array(truthLists.prefix(limit))
            exclude = exclude.map { Array($0.prefix(limit)) }
        }
        let factors = Self.list(oversample, { Int($0) })!
        let shortlists = Self.list(shortlist, { Int($0) })!
        let storages = Self.list(storage, VectorStorage.init(rawValue:))!
        let stored = storages.map { s in (0..<db.count).map { i in db.values[i * db.dimensions ..< (i + 1) * db.dimensions].withUnsafeBufferPointer { s.encode($0) } } }
        let queryVectors = (0..<querySet.count).map(querySet.row)
        let trainSet = try trainVectors.map { try VectorFile.read($0, dimensions: db.dimensions) } ?? db
        for b in Self.list(bits, { Int($0) })! {
            for method in Self.list(methods, VectorMethod.init(rawValue:))! {
                if method == .sign && b != db.dimensions { continue }
                if method == .itq && b > db.dimensions { continue }
                for format in method == .trained ? Self.list(weights, WeightFormat.init(rawValue:))! : [.float] {
                    let start = Date()
                    let model = try makeVectorModel(method: method, weights: format, bits: b, set: trainSet, options: training, learningRate: learningRate,
                                                    seed: seed, threads: threads, progress: reportVectorProgress)
                    let trainSeconds = Date().timeIntervalSince(start)
                    if let dir = saveModels { try ModelFile.write(model, to: "\(dir)/\(label)-\(method.rawValue)-\(format.rawValue)-\(b).tqm") }
                    let encodeStart = Date()
                    let dbCodes = model.encode(db, threads: threads)
                    let encodeSeconds = Date().timeIntervalSince(encodeStart)
                    let queryCodes = model.encode(querySet, threads: threads)
                    let recall = try VectorEvaluation.recall(database: dbCodes, queries: queryCodes, truth: truthLists, exclude: exclude, threads: threads)
                    var rescored: [[String: Any]] = []
                    let queryLogits = queryVectors.map(model.logits)
                    for (s, storedVectors) in zip(storages, stored) {
                        for l in shortlists {
                            for f in factors {
                                let r = try VectorEvaluation.rescoredRecall(database: dbCodes, stored: storedVectors, storage: s, dimensions: db.dimensions,
                                                                            queries: queryCodes, queryVectors: queryVectors, metric: metric,
                                                                            truth: truthLists, oversample: f, shortlist: l, queryLogits: queryLogits,
                                                                            exclude: exclude)
                                rescored.append(["storage": s.rawValue, "oversample": f, "shortlist": l, "recall_at_10": r])
                            }
                        }
                    }
                    let stats = BitStatistics(codes: (0..<dbCodes.count).map { i in (0..<b).map { dbCodes[i][bit: $0] } })
                    emitLine(try jsonLine([
                        "label": label, "method": method.rawValue, "weights": format.rawValue, "bits": b, "recall_at_10": recall,
                        "rescored": rescored, "database": db.count, "queries": querySet.count, "dimensions": db.dimensions,
                        "train_seconds": trainSeconds, "encode_vectors_per_second": Double(db.count) / max(encodeSeconds, 1e-9),
                        "balanced_bits": stats.summary.balanced, "mean_abs_correlation": stats.meanAbsCorrelation,
                        "weight_bytes": model.weightBytes, "seed": Int(seed), "training_vectors": trainSet.count,
                        "hidden": model.config.hidden ?? 0,
                    ]))

                }
            }
        }
    }
}

/// Writes one line to standard output at once (not held in stdio's buffer when piped).
func emitLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// The starting projections a trained vector encoder can begin from (`--initialization`).
enum VectorInitialization: String, CaseIterable, ExpressibleByArgument {
    case itq, sign

    init(_ method: VectorMethod) { self = method == .sign ? .sign : .itq }
    var method: VectorMethod { self == .sign ? .sign : .itq }
}

extension WeightFormat: ExpressibleByArgument {}
extension VectorMethod: ExpressibleByArgument {}
extension VectorMetric: ExpressibleByArgument {}
extension VectorStorage: ExpressibleByArgument {}
