import ArgumentParser
import Foundation
import TwentyQ

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show an index's counts, code width, sizes and model."
    )

    @OptionGroup var index: AnyStoreOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        if let target = try PostgresTarget(db: index.db) { return try infoPostgres(target) }
        let store = try CodeIndex.open(at: index.db, readOnly: true)
        let info = try store.info()
        // A vector index also has its vectors' dimensions and storage.
        let vectors = try store.blob("vector_index") != nil ? try VectorIndex.open(at: index.db, readOnly: true) : nil
        let tables = try store.multiIndexStatus()
        if json {
            var object: [String: Any] = [
                "path": info.path, "format": info.formatVersion, "bits": info.bits, "documents": info.count,
                "count": info.count, "codes_per_chunk": info.codesPerChunk, "chunks": info.chunks,
                "model": info.modelFingerprint, "code_bytes": info.codeBytes, "file_bytes": info.fileBytes,
                "map_bytes": info.mapBytes, "kind": vectors == nil ? "documents" : "vectors",
                "multi_index": TablesCommand.statusObject(tables),
                "lmdb": info.tables.mapValues { t -> [String: Int] in
                    ["depth": t.depth, "branch_pages": t.branchPages, "leaf_pages": t.leafPages,
                     "overflow_pages": t.overflowPages, "entries": t.entries, "bytes": t.bytes]
                },
            ]
            if let vectors {
                object["dimensions"] = vectors.dimensions
                object["stored_vectors"] = vectors.settings.storage?.rawValue ?? "none"
            }
            print(try jsonLine(object))
        } else {
            print("""
            index       \(info.path)
            documents   \(info.count)
            bits        \(info.bits)
            model       \(info.modelFingerprint.isEmpty ? "(none)" : info.modelFingerprint)
            codes       \(formatBytes(info.codeBytes)) in \(info.chunks) chunks of up to \(info.codesPerChunk)
            on disk     \(formatBytes(info.fileBytes)) (data.mdb)
            format      \(info.formatVersion)
            """)
            print("tables      " + TablesCommand.describe(tables, count: info.count).replacingOccurrences(of: "multi-index tables: ", with: ""))
            if let vectors {
                print("vectors     \(vectors.dimensions) dimensions, stored as \(vectors.settings.storage?.rawValue ?? "nothing (codes only)")")
            }
        }
    }
}

/// One JSON object on one line, keys sorted (stable for scripts and tests).
func jsonLine(_ object: [String: Any]) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(n), unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
}
