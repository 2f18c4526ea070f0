import ArgumentParser
import BinaryCodes
import CodeStore
import Foundation
import PostgresStore

/// `--db postgres://USER@HOST[:PORT]/DATABASE#NAME`: an index kept in PostgreSQL where a
/// command takes an index directory (`search --code/--like`, `info`). The fragment names the
/// index, as `PostgresCodeIndex.path` prints it.
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

    /// Opens the index, runs `body` with it, and closes it.
    func with<T: Sendable>(_ body: @escaping @Sendable (PostgresCodeIndex) async throws -> T) throws -> T {
        let (location, name) = (location, name)
        return try runAsync {
            let index = try await PostgresCodeIndex.open(at: location, name: name)
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

extension SearchCommand {
    /// `search --db postgres://...#NAME`: by `--code` or `--like`, exact Hamming distance in SQL
    /// (ties by id). Text queries need the terms and model of an LMDB index.
    func searchPostgres(_ target: PostgresTarget) throws {
        guard code != nil || like != nil else {
            throw ValidationError("an index in PostgreSQL keeps codes, ids and fields: search it with --code HEX or --like ID (text queries run on an LMDB index, which keeps the model and the terms; `twentyq copy` moves an index between the two)")
        }
        if explain || explainPlan || rescore != nil { throw ValidationError("--explain, --explain-plan and --rescore go with an LMDB index") }
        let (code, like, radius, k) = (code, like, radius, k)
        let (hits, bits) = try target.with { index -> ([SearchHit], Int) in
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
                return (try await index.within(radius: radius, of: query), index.bits)
            }
            var matrix = try CodeMatrix(bits: index.bits)
            try matrix.append(query)
            return (try await index.nearest(to: matrix, k: k)[0], index.bits)
        }
        _ = bits
        try printCodeHits(hits)
    }
}

extension InfoCommand {
    /// `info --db postgres://...#NAME`: the index's row in `tq_indexes` and its table.
    func infoPostgres(_ target: PostgresTarget) throws {
        let (count, bits, model, bytes) = try target.with { index in
            (try await index.count(), index.bits, index.modelFingerprint, try await index.tableBytes())
        }
        let path = "\(target.location)#\(target.name)"
        if json {
            print(try jsonLine(["path": path, "store": "postgresql", "bits": bits, "documents": count, "count": count,
                                "model": model, "table_bytes": bytes, "format": PostgresCodeIndex.formatVersion]))
        } else {
            print("""
            index       \(path)
            documents   \(count)
            bits        \(bits)
            model       \(model.isEmpty ? "(none)" : model)
            on disk     \(formatBytes(bytes)) (table, indexes and TOAST)
            format      PostgreSQL layout \(PostgresCodeIndex.formatVersion)
            """)
        }
    }
}
