import ArgumentParser
import Foundation
import Ingest
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder

/// `twentyq bench query`: one text query at a time on a document index, as an app would ask,
/// timed per query; the anchor in the same run is the codes alone (`--rescore none`), so the
/// lexical stage's cost reads as a ratio.
struct BenchQueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Time single text queries through the default pipeline against the codes alone.",
        discussion: """
        Opens the index once (process start excluded), then answers each query of --queries on \
        its own, alternating the measured pipeline and the anchor (--rescore none) query by query \
        so both see the same machine state. Prints one JSON object: p50, p99 and mean latency of \
        each, and their ratio.
        """
    )

    @OptionGroup var index: DocumentIndexOptions
    @Option(help: ArgumentHelp("JSONL queries ({\"id\", \"text\"} per line).", valueName: "file")) var queries: String
    @Option(name: .short, help: "Results per query.") var k: Int = 10
    @Option(help: ArgumentHelp("The measured pipeline's rescoring (default: the library's default).", valueName: "mode")) var rescore: Rescoring?
    @Option(help: ArgumentHelp("The measured pipeline's feedback documents (RM3; 0: off; default: the library's default).", valueName: "n")) var feedback: Int?
    @Option(help: "Queries to time (the first N of the file).") var limit: Int = 1_000
    @Option(help: "Untimed queries first, to warm the page cache.") var warmup: Int = 20

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1 (got \(k))") }
        guard limit >= 1, warmup >= 0 else { throw ValidationError("--limit must be at least 1 and --warmup at least 0") }
        if let feedback, feedback < 0 { throw ValidationError("--feedback must be 0 (off) or a number of documents (got \(feedback))") }
    }

    func run() throws {
        let texts = try Corpus.readJSONL(queries).map(\.text).prefix(limit + warmup)
        guard texts.count > warmup else { throw InputError("\(queries) holds \(texts.count) queries; give more than --warmup (\(warmup))") }
        let target = try DocumentIndex.open(at: index.db, readOnly: true)
        var measured = RankingOptions(rescoring: rescore ?? RankingOptions().rescoring)
        if let feedback { measured.feedback.documents = feedback }
        let anchor = RankingOptions(rescoring: .none)
        var times: [[Double]] = [[], []]
        var candidates = 0
        var progress = Progress(total: texts.count, label: "queries ")
        defer { progress.finish() }
        for (i, text) in texts.enumerated() {
            progress.update(i + 1)
            for (m, options) in [measured, anchor].enumerated() {
                target.ranking = options
                let start = DispatchTime.now().uptimeNanoseconds
                let result = try target.search(texts: [text], k: k, fields: true, threads: 1)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if i >= warmup { times[m].append(seconds) }
                if m == 0 { candidates += result[0].hits.count }
            }
        }
        func summary(_ t: [Double]) -> [String: Double] {
            let s = t.sorted()
            return ["p50_ms": 1000 * s[s.count / 2], "p99_ms": 1000 * s[min(s.count - 1, s.count * 99 / 100)],
                    "mean_ms": 1000 * s.reduce(0, +) / Double(s.count)]
        }
        let a = summary(times[0]), b = summary(times[1])
        print(try jsonLine([
            "db": index.db, "documents": try target.count, "queries": times[0].count, "k": k,
            "pipeline": measured.rescoring.rawValue, "feedback_documents": measured.feedback.isOn ? measured.feedback.documents : 0, "pipeline_latency": a, "anchor": "codes alone (--rescore none)",
            "anchor_latency": b, "p50_ratio": a["p50_ms"]! / b["p50_ms"]!, "p99_ratio": a["p99_ms"]! / b["p99_ms"]!,
            "kernel": KernelLevel.best.rawValue,
        ]))
    }
}
