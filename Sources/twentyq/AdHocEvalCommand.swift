import ArgumentParser
import Foundation
import Training
import TwentyQ

extension EvalCommand {
    /// `eval --dataset cranfield` or `eval --docs --queries --qrels`: the search pipeline as the
    /// CLI runs it, on a temporary index, beside exhaustive BM25 and TF-IDF cosine.
    func runAdHoc() throws {
        let name = dataset?.rawValue ?? "custom"
        let collection = dataset == .cranfield
            ? try JudgedCollection.cranfield(directory: data + "/cranfield")
            : try JudgedCollection.files(documents: docs!, queries: queries!, qrels: qrels!)
        let base: [String: Any] = ["dataset": name, "documents": collection.documents.count, "queries": collection.queries.count]
        let docTexts = collection.documents.map(\.text), queryTexts = collection.queries.map(\.text)
        func report(_ method: String, _ ranked: [[String]], _ extra: [String: Any] = [:]) throws {
            let rankings = Dictionary(uniqueKeysWithValues: zip(collection.queries.map(\.id), ranked))
            let m = AdHocMeasures.evaluate(rankings, judgements: collection.judgements)
            print(try jsonLine(base.merging(m.json) { a, _ in a }.merging(extra) { a, _ in a }.merging(["method": method]) { a, _ in a }))
        }
        let ids = collection.documents.map(\.id)
        var start = Date()
        Stage.begin("exhaustive BM25 and TF-IDF over \(docTexts.count) documents for \(queryTexts.count) queries")
        let bm25 = LexicalBaselines.bm25(documents: docTexts, queries: queryTexts, k: 1000)
        try report("bm25-exhaustive", bm25.map { $0.map { ids[$0] } }, ["seconds": Date().timeIntervalSince(start)])
        start = Date()
        let tfidf = LexicalBaselines.tfidfCosine(documents: docTexts, queries: queryTexts, k: 1000)
        try report("tfidf-cosine", tfidf.map { $0.map { ids[$0] } }, ["seconds": Date().timeIntervalSince(start)])

        let directory = NSTemporaryDirectory() + "twentyq-eval-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let modelFile = try model.map { try ModelFile.read($0) }
        let index = try DocumentIndex.open(at: directory + "/index", model: modelFile)
        start = Date()
        Stage.begin("indexing \(docTexts.count) documents")
        try index.add(collection.documents.map { Document(id: $0.id, text: $0.text) })
        let indexSeconds = Date().timeIntervalSince(start)
        let knownTokens = index.model.tokenCoverage(queryTexts)
        let knownDocTokens = index.model.tokenCoverage(docTexts)
        // Each mode with feedback (the default) and without, so each stage shows alone (the
        // codes alone feed back only with logits: not with a Hamming shortlist).
        let runs = rescoringModes.flatMap { mode in
            (hamming ? [true, false] : [true]).flatMap { asymmetric in
                (mode == .none && !asymmetric ? [false] : [true, false]).map { (mode: mode, asymmetric: asymmetric, feedback: $0) }
            }
        }
        for (mode, asymmetric, feedback) in runs {
            var options = RankingOptions(rescoring: mode)
            options.asymmetric = asymmetric
            if !feedback { options.feedback = .off }
            index.ranking = options
            start = Date()
            Stage.begin("searching: --rescore \(mode.rawValue)\(asymmetric ? "" : ", Hamming shortlist")\(!feedback ? ", --feedback 0" : ""), \(queryTexts.count) queries")
            let results = try index.search(texts: queryTexts, k: k, fields: false)
            try report("twentyq", results.map { $0.hits.map(\.id) }, [
                "rescore": mode.rawValue, "shortlist_by": asymmetric ? "asymmetric" : "hamming",
                "feedback_documents": options.feedback.isOn ? options.feedback.documents : 0,
                "model": model ?? "default", "bits": index.model.bits, "k": k, "seconds": Date().timeIntervalSince(start),
                "index_seconds": indexSeconds, "query_token_coverage": knownTokens, "document_token_coverage": knownDocTokens,
            ])
        }
    }

}
