import ArgumentParser
import Foundation
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder

struct BenchIndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Write random codes into an LMDB index in committed batches.",
        discussion: """
        Code i (id "i") is drawn from the stream --seed, independent of batching, so an \
        interrupted run can be resumed: an existing index with n codes continues at id n.
        """
    )

    @Option(help: ArgumentHelp("Index directory; created if missing.", valueName: "dir")) var db: String
    @Option(help: "Total number of codes the index should hold.") var count: Int
    @Option(help: "Code width in bits (1 to 4096).") var bits: Int
    @Option(help: "Seed of the random codes.") var seed: UInt64 = 42
    @Option(help: "Codes per committed transaction.") var batch: Int = 10_000
    @Option(help: ArgumentHelp("on or off: keep multi-index tables while writing (set before the first write; default: the index's setting, on for codes of up to 128 bits).", valueName: "on|off")) var tables: OnOff?
    @Flag(help: "Print a JSON summary.") var json = false

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be >= 0 (got \(count))") }
        guard BinaryCode.supportedBits.contains(bits) else {
            throw ValidationError("--bits must be between 1 and 4096 (got \(bits))")
        }
        guard batch >= 1 else { throw ValidationError("--batch must be >= 1 (got \(batch))") }
    }

    func run() throws {
        let index = try CodeIndex.openOrCreate(at: db, bits: bits)
        let existing = try index.count
        var tablesSeconds = 0.0
        if let tables {
            var settings = try index.multiIndexStatus().settings
            if settings.enabled != (tables == .on) {
                settings.enabled = tables == .on
                let start = Date()
                try index.configureMultiIndex(settings)
                tablesSeconds = Date().timeIntervalSince(start)
            }
        }
        var progress = Progress(total: count, label: "indexing")
        let start = Date()
        var next = existing
        while next < count {
            let end = min(count, next + batch)
            let entries = try (next ..< end).map { i in
                IndexEntry(id: String(i), code: try SyntheticCodes.code(index: i, bits: bits, seed: seed))
            }
            try index.add(entries)
            next = end
            progress.update(next)
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(start)
        let added = max(0, count - existing)
        if json {
            print(try jsonLine([
                "added": added, "count": try index.count, "bits": bits, "batch": batch, "seconds": seconds,
                "codes_per_second": seconds > 0 ? Double(added) / seconds : 0,
                "tables": TablesCommand.statusObject(try index.multiIndexStatus()), "tables_setup_seconds": tablesSeconds,
                "file_bytes": try index.info().fileBytes,
            ]))
        } else {
            print("added \(added) codes (\(try index.count) in \(db)) in \(String(format: "%.2f", seconds)) s")
        }
    }
}

/// An option that is on or off.
enum OnOff: String, CaseIterable, ExpressibleByArgument {
    case on, off
}
