import ArgumentParser
import Foundation
import TwentyQ

struct TablesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tables",
        abstract: "Show or change an index's multi-index hashing tables (sub-linear exact search).",
        discussion: """
        Every index keeps, from --min-count codes on (default 65,536), m tables that map each \
        substring of a code to the documents having it (Norouzi et al., CVPR 2012), updated in \
        the same transactions as the codes. Searches go through them when they cost less than a \
        scan and give exactly the scan's results. Without options this prints the tables' state; \
        any change rebuilds (or drops) them in one transaction.
        """
    )

    @OptionGroup var index: IndexOptions
    @Flag(exclusivity: .exclusive, help: "Keep tables (--enable; the default for codes of up to 128 bits) or drop them and scan (--disable).") var state: TableState?
    @Option(help: ArgumentHelp("Substrings per code, or auto (bits / log2 of the count, at each rebuild).", valueName: "m|auto")) var substrings: String?
    @Option(help: "No tables below this many codes.") var minCount: Int?
    @Flag(help: "Print one JSON object.") var json = false

    enum TableState: String, EnumerableFlag {
        case enable, disable
    }

    func validate() throws {
        if let substrings, substrings != "auto", Int(substrings) == nil {
            throw ValidationError("--substrings must be a number or auto (got \(substrings))")
        }
        if let minCount, minCount < 0 { throw ValidationError("--min-count must be >= 0 (got \(minCount))") }
    }

    func run() throws {
        let changing = state != nil || substrings != nil || minCount != nil
        let store = try CodeIndex.open(at: index.db, readOnly: !changing)
        var seconds: Double?
        var status: MultiIndexStatus
        if !changing {
            status = try store.multiIndexStatus()
        } else {
            var settings = try store.multiIndexSettings()
            if let state { settings.enabled = state == .enable }
            if let substrings { settings.substrings = substrings == "auto" ? nil : Int(substrings) }
            if let minCount { settings.minimumCount = minCount }
            let start = Date()
            Stage.begin("building the multi-index tables over \(try store.count) codes")
            status = try store.configureMultiIndex(settings)
            seconds = Date().timeIntervalSince(start)
        }
        let count = try store.count
        if json {
            var object = Self.statusObject(status)
            object["count"] = count
            if let seconds { object["seconds"] = seconds }
            print(try jsonLine(object))
        } else {
            print(Self.describe(status, count: count) + (seconds.map { String(format: " (%.2f s)", $0) } ?? ""))
        }
    }

    static func statusObject(_ status: MultiIndexStatus) -> [String: Any] {
        [
            "enabled": status.settings.enabled, "substrings_setting": status.settings.substrings.map(String.init) ?? "auto",
            "min_count": status.settings.minimumCount, "built": status.built, "substrings": status.substrings,
            "substring_bits": status.substringBits, "built_count": status.builtCount, "levels": status.levels,
            "unindexed": status.unindexed, "max_unindexed": status.maxUnindexed, "pending": status.pending,
            "max_pending": status.maxPending, "table_bytes": status.tableBytes,
        ]
    }

    static func describe(_ status: MultiIndexStatus, count: Int) -> String {
        guard status.settings.enabled else { return "multi-index tables: disabled (searches scan)" }
        guard status.built else {
            return "multi-index tables: none yet (\(count) codes; built from \(status.settings.minimumCount) on; searches scan)"
        }
        let levels = status.levels.count == 1 ? "1 level" : "\(status.levels.count) levels (\(status.levels.map(String.init).joined(separator: "/")))"
        return "multi-index tables over \(status.builtCount) codes in \(levels), \(status.substrings) substrings of "
            + "\(status.substringBits.map(String.init).joined(separator: "/")) bits in the first; \(status.unindexed) unindexed "
            + "(a new level past \(status.maxUnindexed)), \(status.pending) pending (rebuilt past \(status.maxPending)), \(formatBytes(status.tableBytes))"
    }
}
