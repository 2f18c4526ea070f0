import ArgumentParser
import BinaryCodes
import CodeStore
import Encoder
import Ingest
import Foundation
import PostgresStore
import TwentyQ
import TwentyQPostgres

/// `--db postgres://USER@HOST[:PORT]/DATABASE#NAME`: an index kept in PostgreSQL where a
/// command takes an index directory (`search`, `info`, `index`, `remove`).
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
    /// Opens `name` at `location`; with `creating`, creates it when missing (an index of text
    /// documents when `modelFile` is given) and checks the width and model of one that exists.
    static func open(_ location: PostgresLocation, _ name: String, creating: (bits: Int, model: String)?,
                     modelFile: [UInt8]? = nil) async throws -> PostgresCodeIndex {
        guard let (bits, model) = creating else { return try await PostgresCodeIndex.open(at: location, name: name) }
        do {
            let index = try await PostgresCodeIndex.open(at: location, name: name, modelFingerprint: model)
            guard index.bits == bits else {
                await index.close()
                throw IndexError.widthMismatch(path: index.path, indexBits: index.bits, codeBits: bits)
            }
            return index
        } catch IndexError.noIndex {
            return try await PostgresCodeIndex.create(at: location, name: name, bits: bits, modelFingerprint: model, modelFile: modelFile)
        }
    }
}

extension SearchCommand {
    /// `search --db postgres://...#NAME`: by `--code` or `--like`, exact Hamming distance in SQL
    /// (ties by id). Text queries need the terms and model of an LMDB index.
    func searchPostgres(_ target: PostgresTarget) throws {
        if explain || explainPlan { throw ValidationError("--explain and --explain-plan go with an LMDB index") }
        if vector != nil || queriesVectors != nil { return try searchPostgresVectors(target) }
        guard code != nil || like != nil else { return try searchPostgresText(target) }
        if rescore != nil { throw ValidationError("--rescore goes with text queries; --code and --like search by Hamming distance") }
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

extension SearchCommand {
    /// `search TEXT` or `--queries FILE` on an index of text documents in PostgreSQL: the same
    /// ranked search as on an LMDB index (`PostgresCodeIndex.rank`), one query at a time, the
    /// query encoded with the model the index keeps.
    func searchPostgresText(_ target: PostgresTarget) throws {
        let docs = try queries.map { try Corpus.readJSONL($0, textField: textField).map { (id: $0.id, text: $0.text) } } ?? [(id: "", text: text.joined(separator: " "))]
        let (location, name, options, k, radius, batch, efSearch) = (target.location, target.name, rankingOptions, k, radius, queries != nil, efSearch)
        let results = try runAsync { () -> [TextSearchResult] in
            let index = try await PostgresTarget.openDocuments(location, name, model: nil, creating: false)
            do {
                var out: [TextSearchResult]
                if let radius {
                    guard radius <= index.store.bits else { throw ValidationError("--radius must be at most the code width, \(index.store.bits) (got \(radius))") }
                    out = [TextSearchResult(hits: try await index.search(docs[0].text, radius: radius), lexicalOnly: false, usedTerms: false)]
                } else {
                    out = try await index.search(texts: docs.map(\.text), k: k, ranking: options, fields: !batch, efSearch: efSearch)
                }
                await index.close()
                return out
            } catch {
                await index.close()
                throw error
            }
        }
        if batch {
            var out = ""
            for (doc, result) in zip(docs, results) { out += JSONText.queryResult(queryID: doc.id, hits: result.hits) + "\n" }
            FileHandle.standardOutput.write(Data(out.utf8))
            return
        }
        let hits = results[0].hits
        if results[0].lexicalOnly { Self.warnLexicalOnly(hits, query: docs[0].text) }
        if json { return try Self.printJSON(query: docs[0].text, hits) }
        if hits.isEmpty { print("no results") }
        for (rank, hit) in hits.enumerated() { print(Self.line(rank, hit)) }
    }
}

extension InfoCommand {
    /// `info --db postgres://...#NAME`: the index's row in `tq_indexes` and its table.
    func infoPostgres(_ target: PostgresTarget) throws {
        let (count, bits, model, bytes, graph, format, terms, storage) = try target.with { index in
            (try await index.count(), index.bits, index.modelFingerprint, try await index.tableBytes(), try await index.graph(), index.format,
             try await index.termStatistics(), try await index.vectorStorage())
        }
        let kind = format == 2 ? "documents" : format == 3 ? "vectors" : "codes"
        let path = "\(target.location)#\(target.name)"
        if json {
            print(try jsonLine(["path": path, "store": "postgresql", "bits": bits, "documents": count, "count": count,
                                "model": model, "table_bytes": bytes, "format": format, "graph": graph != nil,
                                "kind": kind, "documents_with_terms": terms.documents, "stored_vectors": storage ?? "none"]))
        } else {
            print("""
            index       \(path)
            documents   \(count)
            bits        \(bits)
            model       \(model.isEmpty ? "(none)" : model)
            on disk     \(formatBytes(bytes)) (table, indexes and TOAST)
            graph       \(graph.map { "HNSW (pgvector), m \($0.m), ef_construction \($0.efConstruction): search --ef-search N" } ?? "none (exact scans; `tables --graph` builds one where pgvector is installed)")
            kind        \(kind)\(format == 3 ? ", vectors stored as \(storage ?? "nothing (codes only)")" : "")
            terms       \(format == 2 ? "\(terms.documents) documents with terms, \(String(format: "%.1f", Double(terms.totalLength) / Double(max(1, terms.documents)))) terms each on average" : "none")
            format      PostgreSQL layout \(format)
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
            summary += r
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

extension PostgresTarget {
    /// Opens the index of text documents `name` at `location`, or (with `creating`) creates it
    /// with `model` (the shipped model when nil): `PostgresDocumentIndex`, with the CLI's words
    /// for an index of codes.
    static func openDocuments(_ location: PostgresLocation, _ name: String, model: EncoderModel?, creating: Bool) async throws -> PostgresDocumentIndex {
        do {
            return try await PostgresDocumentIndex.open(at: location, name: name, model: model, create: creating)
        } catch IndexError.kindMismatch(let path, _, _) {
            throw InputError("\(path) keeps codes without terms or a model (ready-made codes, or a copy made by `twentyq copy`): search it with --code HEX or --like ID, or index the text documents under a new name")
        }
    }
}

extension IndexCommand {
    /// `index DOCS --db postgres://...#NAME`: text documents into an index of text documents in
    /// PostgreSQL (created with the model, default the shipped one, when missing), a batch per
    /// transaction: codes, fields, terms, document frequencies and statistics together. The
    /// documents come from `sources.stream` (JSONL files past --stream-over read again).
    func indexDocuments(_ gathered: GatheredDocuments, sources: DocumentSources, model: EncoderModel?, into target: PostgresTarget,
                        start: Date) throws {
        let (location, name) = (target.location, target.name)
        let index = try runAsync { try await PostgresTarget.openDocuments(location, name, model: model, creating: true) }
        defer { _ = try? runAsync { await index.close() } }
        var progress = Progress(total: gathered.count, label: "indexing")
        var report = AddSummary()
        var pending: [Document] = [], written = 0
        func flush() throws {
            let part = pending
            pending.removeAll(keepingCapacity: true)
            report += try runAsync { try await index.add(part) }
            written += part.count
            progress.update(written)
        }
        var sample = EvenSample(count: gathered.count, limit: 2_000)
        try sources.stream(gathered) { documents in
            sample.take(documents)
            for d in documents {
                pending.append(d)
                if pending.count == batch { try flush() }
            }
        }
        if !pending.isEmpty { try flush() }
        progress.finish()
        let total = try runAsync { try await index.count() }
        let seconds = Date().timeIntervalSince(start)
        let skipped = gathered.skipped.values.reduce(0, +)
        let coverage = Self.warnOfPoorCoverage(index.model, sample: sample.texts)
        let path = "\(target.location)#\(target.name)"
        if json {
            print(try jsonLine([
                "token_coverage": coverage.map { $0 as Any } ?? NSNull(),
                "added": report.added, "replaced": report.replaced, "unchanged": report.unchanged, "skipped": skipped,
                "skipped_reasons": gathered.skipped, "documents": total, "seconds": seconds,
                "docs_per_second": Double(gathered.count) / max(seconds, 1e-9), "db": path,
            ]))
        } else {
            let reasons = gathered.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            print("added \(report.added), replaced \(report.replaced), unchanged \(report.unchanged), skipped \(skipped)"
                  + (reasons.isEmpty ? "" : " (\(reasons))") + String(format: " in %.2f s; ", seconds) + CLIMessages.count(total, "document") + " in \(path)")
        }
    }
}

extension IndexCommand {
    /// `index --vectors FILE --db postgres://...#NAME`: vectors into a vector index in PostgreSQL
    /// (created with --model and --store-vectors when missing), a batch per transaction; the
    /// whole file is read and checked first.
    func indexVectors(_ file: String, into target: PostgresTarget) throws {
        let start = Date()
        let (location, name, storage) = (target.location, target.name, storeVectors)
        let vectorModel = try model.map { try ModelFile.readVectors($0) }
        let index = try runAsync { try await PostgresVectorIndex.open(at: location, name: name, model: vectorModel, storage: storage) }
        defer { _ = try? runAsync { await index.close() } }
        let set = try VectorFile.read(file, dimensions: index.dimensions)
        let givenIDs = try ids.map { try VectorFile.readIDs($0, count: set.count) }
        let d = set.dimensions
        var summary = AddSummary()
        var progress = Progress(total: set.count, label: "indexing")
        for first in stride(from: 0, to: set.count, by: batch) {
            let rows = first ..< min(set.count, first + batch)
            let partIDs = rows.map { givenIDs?[$0] ?? set.ids?[$0] ?? String($0) }
            let vectors = rows.map { Array(set.values[$0 * d ..< ($0 + 1) * d]) }
            let partFields = rows.map { row in set.metadata.map { SearchHit.fields(json: $0[row]) } ?? [:] }
            let r = try runAsync { try await index.add(ids: partIDs, vectors: vectors, fields: partFields) }
            summary += r
            progress.update(rows.upperBound)
        }
        progress.finish()
        let total = try runAsync { try await index.count() }
        let seconds = Date().timeIntervalSince(start)
        let path = "\(target.location)#\(target.name)"
        if json {
            print(try jsonLine(["added": summary.added, "replaced": summary.replaced, "unchanged": summary.unchanged, "vectors": total, "seconds": seconds,
                                "vectors_per_second": Double(set.count) / max(seconds, 1e-9), "db": path, "stored_vectors": index.storage?.rawValue ?? "none"]))
        } else {
            print("added \(summary.added), replaced \(summary.replaced), unchanged \(summary.unchanged)" + String(format: " in %.2f s; %d vectors in %@", seconds, total, path)
                  + (index.storage.map { " (vectors stored as \($0.rawValue))" } ?? ""))
        }
    }
}

extension SearchCommand {
    /// `search --vector` or `--queries-vectors` on a vector index in PostgreSQL
    /// (`PostgresVectorIndex.search`, one query at a time).
    func searchPostgresVectors(_ target: PostgresTarget) throws {
        let (location, name, k, oversample, shortlist, efSearch, rescore) = (target.location, target.name, k, oversample, shortlist, efSearch, rescoreVectors)
        let index = try runAsync { try await PostgresVectorIndex.open(at: location, name: name) }
        defer { _ = try? runAsync { await index.close() } }
        let queries: VectorSet
        if let queriesVectors {
            queries = try VectorFile.read(queriesVectors, dimensions: index.dimensions)
        } else {
            let query = try Self.parseVector(vector!)
            guard query.count == index.dimensions else {
                throw ValidationError("--vector has \(query.count) numbers; the index holds \(index.dimensions)-dimensional vectors")
            }
            queries = VectorSet(dimensions: index.dimensions, values: query)
        }
        let d = queries.dimensions
        var results: [[SearchHit]] = []
        for row in 0..<queries.count {
            let query = Array(queries.values[row * d ..< (row + 1) * d])
            results.append(try runAsync { try await index.search(query, k: k, rescore: rescore, oversample: oversample, shortlist: shortlist, efSearch: efSearch) })
        }
        if queriesVectors != nil || json {
            var out = ""
            for (row, hits) in results.enumerated() { out += JSONText.vectorQueryResult(queryRow: row, hits: hits) + "\n" }
            FileHandle.standardOutput.write(Data(out.utf8))
            return
        }
        if results[0].isEmpty { print("no results") }
        for (rank, hit) in results[0].enumerated() {
            print("\(rank + 1). d=\(hit.distance)" + (hit.score.map { String(format: "  score=%.4f", $0) } ?? "") + "  \(TerminalText.safe(hit.id))")
        }
    }
}
