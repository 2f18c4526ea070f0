import ArgumentParser
import BinaryCodes
import CodeStore
import Foundation
import PostgresStore

/// `--db postgres://USER@HOST[:PORT]/DATABASE#NAME`: an index kept in PostgreSQL where a
/// command takes an index directory (`search --code/--like`, `info`, `index --codes`, `remove`).
/// The fragment names the index, as `PostgresCodeIndex.path` prints it.
struct PostgresTarget {
    let location: PostgresLocation
    let name: String

    /// Nil when `db` is not a postgres:// URL (an index directory then).
    /// - Throws: `ValidationError` for a URL without `#NAME` or with a name PostgreSQL cannot take.
    init?(db: String) throws {
        guard PostgresLocation.isURL(db) else { return nil }
        guard let hash = db.lastIndex(of: "#"), db.index(after: hash) < db.endIndex else {
            throw ValidationError("--db \(db): name the index after '#' (postgres://USER@HOST:PORT/DATABASE#NAME)")
        }
        name = String(db[db.index(after: hash)...])
        try PostgresCodeIndex.checkName(name)
        location = try PostgresLocation(url: String(db[..<hash]))
    }

    /// Opens the index (or, with `creating`, creates it when missing: width and model of the
    /// codes to come, which an existing index must match), runs `body` with it, and closes it.
    func with<T: Sendable>(creating: (bits: Int, model: String)? = nil, _ body: @escaping @Sendable (PostgresCodeIndex) async throws -> T) throws -> T {
        let (location, name) = (location, name)
        return try runAsync {
            let index = try await Self.open(location, name, creating: creating)
            do {
                let result = try await body(index)
                await index.close()
                return result
            } catch {
                await index.close()
                throw error
            }
        }
    }
}

extension PostgresTarget {
    /// Opens `name` at `location`; with `creating`, creates it when missing and checks the width
    /// and model of one that exists.
    static func open(_ location: PostgresLocation, _ name: String, creating: (bits: Int, model: String)?) async throws -> PostgresCodeIndex {
        guard let (bits, model) = creating else { return try await PostgresCodeIndex.open(at: location, name: name) }
        do {
            let index = try await PostgresCodeIndex.open(at: location, name: name, modelFingerprint: model)
            guard index.bits == bits else {
                await index.close()
                throw IndexError.widthMismatch(path: index.path, indexBits: index.bits, codeBits: bits)
            }
            return index
        } catch IndexError.noIndex {
            return try await PostgresCodeIndex.create(at: location, name: name, bits: bits, modelFingerprint: model)
        }
    }
}

extension SearchCommand {
    /// `search --db postgres://...#NAME`: by `--code` or `--like`, exact Hamming distance in SQL
    /// (ties by id). Text queries need the terms and model of an LMDB index.
    func searchPostgres(_ target: PostgresTarget) throws {
        guard code != nil || like != nil else {
            throw ValidationError("an index in PostgreSQL keeps codes, ids and fields: search it with --code HEX or --like ID (text queries run on an LMDB index, which keeps the model and the terms; `twentyq copy` moves an index between the two)")
        }
        if explain || explainPlan || rescore != nil { throw ValidationError("--explain, --explain-plan and --rescore go with an LMDB index") }
        let (code, like, radius, k, efSearch) = (code, like, radius, k, efSearch)
        let hits = try target.with { index -> [SearchHit] in
            let query: BinaryCode
            if let code {
                do { query = try BinaryCode(hex: code, bits: index.bits) } catch {
                    throw InputError("--code: \(error) (the index holds \(index.bits)-bit codes: \((index.bits + 3) / 4) hex digits, as `export` writes them)")
                }
            } else {
                guard let found = try await index.code(for: like!) else { throw IndexError.unknownID(like!) }
                query = found
            }
            if let radius {
                guard radius <= index.bits else { throw ValidationError("--radius must be at most the code width, \(index.bits) (got \(radius))") }
                return try await index.within(radius: radius, of: query)
            }
            var matrix = try CodeMatrix(bits: index.bits)
            try matrix.append(query)
            if let efSearch { return try await index.approximateNearest(to: matrix, k: k, efSearch: efSearch)[0] }
            return try await index.nearest(to: matrix, k: k)[0]
        }
        try printCodeHits(hits)
    }
}

extension InfoCommand {
    /// `info --db postgres://...#NAME`: the index's row in `tq_indexes` and its table.
    func infoPostgres(_ target: PostgresTarget) throws {
        let (count, bits, model, bytes, graph) = try target.with { index in
            (try await index.count(), index.bits, index.modelFingerprint, try await index.tableBytes(), try await index.graph())
        }
        let path = "\(target.location)#\(target.name)"
        if json {
            print(try jsonLine(["path": path, "store": "postgresql", "bits": bits, "documents": count, "count": count,
                                "model": model, "table_bytes": bytes, "format": PostgresCodeIndex.formatVersion, "graph": graph != nil]))
        } else {
            print("""
            index       \(path)
            documents   \(count)
            bits        \(bits)
            model       \(model.isEmpty ? "(none)" : model)
            on disk     \(formatBytes(bytes)) (table, indexes and TOAST)
            graph       \(graph.map { "HNSW (pgvector), m \($0.m), ef_construction \($0.efConstruction): search --ef-search N" } ?? "none (exact scans; `tables --graph` builds one where pgvector is installed)")
            format      PostgreSQL layout \(PostgresCodeIndex.formatVersion)
            """)
        }
    }
}

extension IndexCommand {
    /// `index --codes FILE --db postgres://...#NAME`: the codes into PostgreSQL (the index is
    /// created with their width when missing), a batch per transaction.
    func indexCodes(_ entries: [IndexEntry], bits: Int, into target: PostgresTarget, start: Date) throws {
        var progress = Progress(total: entries.count, label: "indexing")
        defer { progress.finish() }
        var summary = AddSummary()
        // One connection for the whole run; the table is counted once, at the end.
        let (location, name) = (target.location, target.name)
        let index = try runAsync { try await PostgresTarget.open(location, name, creating: (bits, "")) }
        defer { _ = try? runAsync { await index.close() } }
        for first in stride(from: 0, to: entries.count, by: batch) {
            let part = Array(entries[first ..< min(entries.count, first + batch)])
            let r = try runAsync { try await index.add(part) }
            summary.added += r.added; summary.replaced += r.replaced; summary.unchanged += r.unchanged
            progress.update(min(entries.count, first + batch))
        }
        let count = try runAsync { try await index.count() }
        let seconds = Date().timeIntervalSince(start)
        let path = "\(target.location)#\(target.name)"
        if json {
            print(try jsonLine(["added": summary.added, "replaced": summary.replaced, "unchanged": summary.unchanged, "codes": count, "bits": bits,
                                "seconds": seconds, "codes_per_second": Double(entries.count) / max(seconds, 1e-9), "db": path]))
        } else {
            print("added \(summary.added), replaced \(summary.replaced), unchanged \(summary.unchanged)"
                  + String(format: " in %.2f s; %d %d-bit codes in %@", seconds, count, bits, path))
        }
    }
}
