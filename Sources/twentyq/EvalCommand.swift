import ArgumentParser
import Foundation
import Training
import TwentyQ

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Precision@100 on 20 Newsgroups or Reuters (train = database, test = queries).",
        discussion: """
        Trains an unsupervised model on the train split at each --bits (or evaluates --model) and \
        reports precision@100 under Hamming ranking, relevant = shares a label, ties counted by \
        their expectation over all orders. --baselines adds exact TF-IDF cosine and random-hyperplane \
        LSH on TF-IDF. One JSON object per line.
        """
    )

    @Option(help: "20news or reuters.") var dataset: String
    @Option(help: ArgumentHelp("Directory of the shared data sets.", valueName: "dir")) var data: String = "../shared/data"
    @Option(help: "Comma-separated code widths to train and evaluate.") var bits: String = "64"
    @Option(help: ArgumentHelp("Evaluate this model instead of training.", valueName: "file")) var model: String?
    @Flag(help: "Also evaluate TF-IDF cosine and LSH baselines.") var baselines = false
    @Option(help: ArgumentHelp("Save each trained model here as DATASET-BITS-WEIGHTS.tqm.", valueName: "dir")) var saveModels: String?
    @OptionGroup var training: TrainingOptions

    var widths: [Int] { bits.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard ["20news", "reuters"].contains(dataset) else { throw ValidationError("--dataset must be 20news or reuters (got \(dataset))") }
        guard !widths.isEmpty, widths.allSatisfy(ModelConfig.supportedBits.contains) else {
            throw ValidationError("--bits must list widths between 16 and 1024, e.g. 16,32,64,128 (got \(bits))")
        }
    }

    func run() throws {
        let split = try Datasets.load(dataset, dataDirectory: data)
        let (dbLabels, queryLabels) = RetrievalEvaluation.labelMasks(split.train, split.test)
        let base: [String: Any] = ["dataset": dataset, "database": split.train.count, "queries": split.test.count, "k": 100]
        if baselines {
            var c = TrainingConfig()
            c.bigrams = false
            c.maxDocumentRatio = 0.8
            let trainer = Trainer(config: c)
            let (vocabulary, _) = trainer.prepare(split.train.map(\.text))
            let featurize = { (d: CorpusDocument) in vocabulary.tfidf(trainer.featurizer.terms(d.text)) }
            let db = split.train.map(featurize), queries = split.test.map(featurize)
            let cosine = RetrievalEvaluation.cosinePrecision(database: db, dbLabels: dbLabels, queries: queries,
                                                             queryLabels: queryLabels, dimension: vocabulary.count)
            print(try jsonLine(base.merging(["method": "tfidf-cosine", "precision_at_100": cosine, "vocabulary": vocabulary.count]) { a, _ in a }))
            for b in widths {
                let dbCodes = try RetrievalEvaluation.lshCodes(db, dimension: vocabulary.count, bits: b, seed: training.seed)
                let qCodes = try RetrievalEvaluation.lshCodes(queries, dimension: vocabulary.count, bits: b, seed: training.seed)
                let p = RetrievalEvaluation.hammingPrecision(database: dbCodes, dbLabels: dbLabels, queries: qCodes, queryLabels: queryLabels)
                print(try jsonLine(base.merging(["method": "lsh-tfidf", "bits": b, "precision_at_100": p]) { a, _ in a }))
            }
        }
        if let model {
            try evaluate(try ModelFile.read(model), split: split, dbLabels: dbLabels, queryLabels: queryLabels,
                         extra: base.merging(["method": "model", "model": model]) { a, _ in a })
            return
        }
        for b in widths {
            let config = training.config(bits: b)
            let start = Date()
            let trained = try Trainer(config: config).train(texts: split.train.map(\.text), progress: reportProgress)
            let seconds = Date().timeIntervalSince(start)
            if let dir = saveModels {
                try ModelFile.write(trained, to: "\(dir)/\(dataset)-\(b)-\(config.weights.rawValue).tqm")
            }
            try evaluate(trained, split: split, dbLabels: dbLabels, queryLabels: queryLabels, extra: base.merging([
                "method": "twentyq-unsupervised", "objective": config.objective.rawValue, "train_seconds": seconds, "epochs": config.epochs, "hidden": config.hidden,
                "seed": Int(config.seed),
            ]) { a, _ in a })
        }
    }

    func evaluate(_ model: EncoderModel, split: LabeledSplit, dbLabels: [UInt64], queryLabels: [UInt64], extra: [String: Any]) throws {
        let start = Date()
        let db = try RetrievalEvaluation.codes(model, texts: split.train.map(\.text))
        let encodeSeconds = Date().timeIntervalSince(start)
        let queries = try RetrievalEvaluation.codes(model, texts: split.test.map(\.text))
        let p = RetrievalEvaluation.hammingPrecision(database: db, dbLabels: dbLabels, queries: queries, queryLabels: queryLabels)
        let stats = BitStatistics(codes: (0..<db.count).map { i in (0..<model.bits).map { db[i][bit: $0] } })
        print(try jsonLine(extra.merging([
            "bits": model.bits, "weights": model.config.weights.rawValue, "precision_at_100": p,
            "bit_frequency_min": stats.frequencies.min() ?? 0, "bit_frequency_max": stats.frequencies.max() ?? 0,
            "balanced_bits": stats.summary.balanced, "mean_abs_correlation": stats.meanAbsCorrelation,
            "weight_bytes": model.weightBytes, "encode_docs_per_second": Double(split.train.count) / encodeSeconds,
        ]) { a, _ in a }))
    }
}
