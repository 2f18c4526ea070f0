import ArgumentParser
import Foundation
import PostgresStore
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

        An index in PostgreSQL (--db postgres://...#NAME) has no such tables; with pgvector 0.7 \
        or later on the server, --graph builds an HNSW graph over its codes (pgvector's \
        bit_hamming_ops; --m and --ef-construction its settings) for approximate searches \
        (`search --ef-search N`), and --drop-graph drops it. Without options this prints whether \
        the graph is there.
        """
    )

    @OptionGroup var index: AnyStoreOptions
    @Flag(exclusivity: .exclusive, help: "Keep tables (--enable; the default for codes of up to 128 bits) or drop them and scan (--disable).") var state: TableState?
    @Option(help: ArgumentHelp("Substrings per code, or auto (bits / log2 of the count, at each rebuild).", valueName: "m|auto")) var substrings: String?
    @Option(help: "No tables below this many codes.") var minCount: Int?
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(exclusivity: .exclusive, help: "An index in PostgreSQL: build pgvector's HNSW graph over the codes (--graph) or drop it (--drop-graph).") var graph: GraphChange?
    @Option(help: "With --graph: neighbours per node and layer (2 to 100).") var m = 16
    @Option(help: "With --graph: candidates kept while building (4 to 1,000, at least 2 x m).") var efConstruction = 64

    enum GraphChange: String, EnumerableFlag {
        case graph, dropGraph
    }

    enum TableState: String, EnumerableFlag {
        case enable, disable
    }

    func validate() throws {
        if let substrings, substrings != "auto", Int(substrings) == nil {
            throw ValidationError("--substrings must be a number or auto (got \(substrings))")
        }
        if let minCount, minCount < 0 { throw ValidationError("--min-count must be >= 0 (got \(minCount))") }
        let postgres = PostgresLocation.isURL(index.db)
        if postgres && (state != nil || substrings != nil || minCount != nil) {
            throw ValidationError("an index in PostgreSQL has no multi-index tables: --enable, --disable, --substrings and --min-count go with an LMDB index; for PostgreSQL there is --graph (pgvector's HNSW)")
        }
        if !postgres && graph != nil {
            throw ValidationError("--graph and --drop-graph go with an index in PostgreSQL (--db postgres://...#NAME); an LMDB index searches exactly through its multi-index tables")
        }
    }

    func run() throws {
        if let target = try PostgresTarget(db: index.db) { return try runPostgres(target) }
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

    /// `tables --db postgres://...#NAME [--graph | --drop-graph]`.
    func runPostgres(_ target: PostgresTarget) throws {
        let (graph, settings) = (graph, PostgresCodeIndex.GraphSettings(m: m, efConstruction: efConstruction))
        if graph == .graph { Stage.begin("building the HNSW graph over the codes in PostgreSQL") }
        let (built, version, count, seconds) = try target.with { index -> (PostgresCodeIndex.GraphSettings?, String?, Int, Double?) in
            let start = Date()
            switch graph {
            case .graph?: try await index.buildGraph(settings)
            case .dropGraph?: try await index.dropGraph()
            case nil: break
            }
            let seconds = graph == nil ? nil : Date().timeIntervalSince(start)
            return (try await index.graph(), try await index.pgvectorVersion(), try await index.count(), seconds)
        }
        if json {
            var object: [String: Any] = ["graph": built != nil, "count": count, "pgvector": version ?? NSNull()]
            if let built { object["m"] = built.m; object["ef_construction"] = built.efConstruction }
            if let seconds { object["seconds"] = seconds }
            print(try jsonLine(object))
        } else {
            let state = built.map { "an HNSW graph (m \($0.m), ef_construction \($0.efConstruction)) over \(count) codes, pgvector \(version ?? "?"); `search --ef-search N` goes through it" }
                ?? "no HNSW graph (\(count) codes; searches are exact scans; --graph builds one where pgvector is installed)"
            print(state + (seconds.map { String(format: " (%.2f s)", $0) } ?? ""))
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
