import ArgumentParser
import Foundation
import Ingest
import Training
import TwentyQ

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Ad-hoc retrieval on judged queries (Cranfield, or your own), or precision@100 on 20 Newsgroups or Reuters.",
        discussion: """
        Ad-hoc (--dataset cranfield, or --docs D.jsonl --queries Q.jsonl --qrels FILE): indexes the \
        documents with --model (default: the shipped model) in a temporary index, runs every query \
        through `twentyq search` for each --rescore mode, and reports MAP cut at 100, nDCG@10, P@10, \
        R@100 and R@1000 beside BM25 and TF-IDF cosine over the whole collection (same analyzer). \
        Category (--dataset 20news or reuters): trains an unsupervised model on the train split at \
        each --bits (or evaluates --model) and reports precision@100 under Hamming ranking, relevant \
        = shares a label, ties counted by their expectation over all orders. --baselines adds exact \
        TF-IDF cosine and random-hyperplane LSH on TF-IDF. One JSON object per line.
        """
    )

    @Option(help: "cranfield (ad-hoc), 20news or reuters (category).") var dataset: EvalDataset?
    @Option(help: ArgumentHelp("Ad-hoc: documents as JSONL ({\"id\", \"text\"}).", valueName: "file")) var docs: String?
    @Option(help: ArgumentHelp("Ad-hoc: queries as JSONL ({\"id\", \"text\"}).", valueName: "file")) var queries: String?
    @Option(help: ArgumentHelp("Ad-hoc: judgements, TREC qrels (query 0 document grade).", valueName: "file")) var qrels: String?
    @Option(help: ArgumentHelp("Ad-hoc: comma-separated rescoring modes to measure (fused, bm25, none).", valueName: "modes")) var rescore: String = "fused,bm25,none"
    @Flag(help: "Ad-hoc: also measure each mode with the shortlist chosen by Hamming distance (not the asymmetric score).") var hamming = false
    @Option(name: .short, help: "Ad-hoc: results per query, as `search -k` (the shortlists scale with it); R@1000 needs 1000.") var k: Int = 1000
    @Option(help: ArgumentHelp("Directory of the shared data sets.", valueName: "dir")) var data: String = "../shared/data"
    @Option(help: "Comma-separated code widths to train and evaluate.") var bits: String = "64"
    @Option(help: ArgumentHelp("Evaluate this model instead of training.", valueName: "file")) var model: String?
    @Flag(help: "Also evaluate TF-IDF cosine and LSH baselines.") var baselines = false
    @Option(help: ArgumentHelp("Save each trained model here as DATASET-BITS-WEIGHTS.tqm.", valueName: "dir")) var saveModels: String?
    @OptionGroup var training: TrainingOptions

    var widths: [Int] { bits.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    var isAdHoc: Bool { dataset == .cranfield || docs != nil }
    var rescoringModes: [Rescoring] { rescore.split(separator: ",").compactMap { Rescoring(rawValue: $0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        if docs != nil || queries != nil || qrels != nil {
            guard dataset == nil, docs != nil, queries != nil, qrels != nil else {
                throw ValidationError("give --docs, --queries and --qrels together, without --dataset")
            }
        } else {
            guard dataset != nil else {
                throw ValidationError("give --dataset cranfield, 20news or reuters, or --docs, --queries and --qrels")
            }
        }
        guard k >= 1 else { throw ValidationError("-k must be at least 1 (got \(k))") }
        guard rescoringModes.count == rescore.split(separator: ",").count, !rescoringModes.isEmpty else {
            throw ValidationError("--rescore lists fused, bm25 or none, separated by commas (got \(rescore))")
        }
        if isAdHoc { return }
        guard !widths.isEmpty, widths.allSatisfy(ModelConfig.supportedBits.contains) else {
            throw ValidationError("--bits must list widths between 16 and 1024, e.g. 16,32,64,128 (got \(bits))")
        }
    }

    func run() throws {
        if let dataset {
            // The default is relative to the working directory: name the option that fixes it.
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: data + "/" + dataset.rawValue, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw InputError("--data \(data): no \(dataset.rawValue) folder in it (the default, ../shared/data, is relative to the "
                                 + "directory twentyq runs in); give --data DIR, the directory that holds \(dataset.rawValue)/")
            }
        }
        if isAdHoc { return try runAdHoc() }
        let dataset = dataset!.rawValue
        Stage.begin("reading \(dataset)")
        let split = try Datasets.load(dataset, dataDirectory: data)
        let (dbLabels, queryLabels) = RetrievalEvaluation.labelMasks(split.train, split.test)
        let base: [String: Any] = ["dataset": dataset, "database": split.train.count, "queries": split.test.count, "k": 100]
        if baselines {
            Stage.begin("baselines: TF-IDF cosine and LSH over \(split.train.count) documents")
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
            let trained = try Trainer(config: config).train(texts: split.train.map(\.text), progress: reportProgress,
                                                            stages: StageReporter().callAsFunction)
            let seconds = Date().timeIntervalSince(start)
            if let dir = saveModels {
                try ModelFile.write(trained, to: "\(dir)/\(dataset)-\(b)-\(config.weights.rawValue).tqm")
            }
            try evaluate(trained, split: split, dbLabels: dbLabels, queryLabels: queryLabels, extra: base.merging([
                "method": "twentyq-unsupervised", "objective": config.objective.rawValue, "train_seconds": seconds, "epochs": config.epochs, "hidden": config.hidden,
                // Through its shortest decimal form, so that 0.01 is written as 0.01, not 0.009999999776.
                "seed": Int(config.seed), "weight_decay": Double("\(config.weightDecay)") ?? Double(config.weightDecay),
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

/// `eval --dataset`: the shared data sets the command knows.
enum EvalDataset: String, CaseIterable, ExpressibleByArgument {
    case cranfield
    case twentyNews = "20news"
    case reuters
}
