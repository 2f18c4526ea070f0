import ArgumentParser
import BinaryCodes
import CodeStore
import Foundation
import PostgresStore
import TwentyQ
import TwentyQPostgres
import Encoder

/// `twentyq copy`: an index's codes, ids and fields from an LMDB directory into PostgreSQL, or
/// back, in batches (docs/SCALE.md).
struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy an index (codes, ids and fields; a text index's terms and model, a vector index's model and vectors too) between an LMDB directory and PostgreSQL (postgres://...), in batches; run it again to resume.",
        discussion: """
        One side is an index directory, the other a database URL \
        (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE) with --name, the index there \
        (created when missing, with the source's width and model). Each batch is one \
        transaction; an interrupted copy is resumed by running the same command again: \
        items already there are compared and left unchanged. Copied: ids, codes and fields; for \
        an index of text documents its terms and model, for a vector index its model, storage \
        and stored vectors (byte for byte), so the copy answers as the source does.
        """
    )

    @Option(help: ArgumentHelp("Where from: an index directory or a postgres:// URL.", valueName: "dir|url")) var from: String
    @Option(help: ArgumentHelp("Where to: an index directory or a postgres:// URL.", valueName: "dir|url")) var to: String
    @Option(help: ArgumentHelp("The index in PostgreSQL (1 to 48 lowercase letters, digits or _; default: the directory's name when it is one).", valueName: "name")) var name: String?
    @Option(help: "Items per transaction.") var batch: Int = 10_000
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1 (got \(batch))") }
        let (fromPG, toPG) = (PostgresLocation.isURL(from), PostgresLocation.isURL(to))
        guard fromPG != toPG else {
            throw ValidationError(fromPG ? "--from and --to are both databases: copy between PostgreSQL databases with pg_dump"
                                         : "--from and --to are both directories: copy an index with `twentyq backup`")
        }
    }

    /// The PostgreSQL index name: --name, or the directory's last component when it is one.
    func indexName(directory: String) throws -> String {
        if let name { try PostgresCodeIndex.checkName(name); return name }
        let base = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
        guard (try? PostgresCodeIndex.checkName(base)) != nil else {
            throw ValidationError("give --name: '\(base)' cannot name an index in PostgreSQL (1 to 48 lowercase letters, digits or _)")
        }
        return base
    }

    func run() throws {
        let start = Date()
        let summary = PostgresLocation.isURL(to) ? try toPostgres() : try fromPostgres()
        let seconds = Date().timeIntervalSince(start)
        if json {
            print(try jsonLine(["from": from, "to": to, "copied": summary.added + summary.replaced + summary.unchanged, "added": summary.added,
                                "replaced": summary.replaced, "unchanged": summary.unchanged, "seconds": seconds]))
        } else {
            print(String(format: "copied %d items (added %d, replaced %d, unchanged %d) in %.2f s", summary.added + summary.replaced + summary.unchanged,
                         summary.added, summary.replaced, summary.unchanged, seconds))
        }
    }

    /// LMDB -> PostgreSQL: the records in slot order, a batch per transaction.
    func toPostgres() throws -> AddSummary {
        let source = try AnyIndex.open(at: from, readOnly: true)
        let store = source.store
        let name = try indexName(directory: from)
        let location = try PostgresLocation(url: to)
        if case .vectors(let vectors) = source { return try copyVectors(vectors, to: location, name: name) }
        let (bits, model) = (store.bits, store.modelFingerprint)
        // A text index brings its model and terms: the copy is an index of text documents.
        let modelFile = source.kind == .documents ? try store.blob(DocumentIndex.modelKey) : nil
        let target = try runAsync { try await PostgresTarget.open(location, name, creating: (bits, model), modelFile: modelFile) }
        if modelFile != nil && !target.keepsTerms {
            throw ValidationError("\(target.path) holds codes without terms (an earlier copy, before text indexes moved with their terms): copy into a new --name, or drop it first (`twentyq remove` of every id, or DROP TABLE)")
        }
        defer { _ = try? runAsync { await target.close() } }
        var total = AddSummary()
        var progress = Progress(total: try store.count, label: "copying ")
        defer { progress.finish() }
        var pending: [IndexEntry] = []
        func send() throws {
            let entries = pending
            let done = try runAsync { try await target.add(entries) }
            total += done
            pending.removeAll(keepingCapacity: true)
            progress.update(total.added + total.replaced + total.unchanged)
        }
        try store.forEachEntry(terms: modelFile != nil) { entry in
            pending.append(entry)
            if pending.count == batch { try send() }
            return true
        }
        if !pending.isEmpty { try send() }
        return total
    }

    /// PostgreSQL -> LMDB: pages in id order into a new index of codes (or one made by an
    /// earlier copy: same width and model).
    func fromPostgres() throws -> AddSummary {
        let name = try indexName(directory: to)
        let location = try PostgresLocation(url: from)
        let source = try runAsync { try await PostgresCodeIndex.open(at: location, name: name) }
        defer { _ = try? runAsync { await source.close() } }
        if source.keepsVectors { return try copyVectors(source) }
        // An index of text documents comes with its model and terms: the copy is one too.
        let modelFile = try runAsync { try await source.modelFile() }
        let kind: IndexKind = modelFile == nil ? .codes : .documents
        let target: CodeIndex
        if FileManager.default.fileExists(atPath: to + "/data.mdb") {
            let existing = try AnyIndex.open(at: to)
            guard existing.kind == kind else {
                throw ValidationError("\(to) is an index of \(existing.kind == .documents ? "documents" : existing.kind == .vectors ? "vectors" : "codes"): copy into a new directory (the copy of \(source.path) is an index of \(kind == .documents ? "documents" : "codes"), and would leave its other tables out of step)")
            }
            target = existing.store
            guard target.bits == source.bits else { throw IndexError.widthMismatch(path: to, indexBits: target.bits, codeBits: source.bits) }
            guard target.modelFingerprint == source.modelFingerprint else {
                throw IndexError.modelMismatch(path: to, index: target.modelFingerprint.isEmpty ? "(none)" : target.modelFingerprint,
                                               given: source.modelFingerprint.isEmpty ? "(none)" : source.modelFingerprint)
            }
        } else {
            target = try CodeIndex.create(at: to, bits: source.bits, modelFingerprint: source.modelFingerprint,
                                          blobs: modelFile.map { [DocumentIndex.modelKey: $0] } ?? [:])
        }
        // The LMDB store rewrites whatever it is given: items equal to the stored ones are
        // counted unchanged here and not written, so a resumed copy rewrites nothing twice.
        return try copyPages(of: source, read: { try await source.entries(after: $0, limit: $1) }, id: \.id,
                             isChanged: { try target.code(for: $0.id) != $0.code || target.metadata(for: $0.id) != $0.metadata },
                             write: { try target.add($0) })
    }

    /// PostgreSQL -> LMDB, page by page in id order: `read` gives the page after an id, the
    /// items `isChanged` rejects are counted unchanged and not written, `write` stores the rest.
    func copyPages<Item: Sendable>(of source: PostgresCodeIndex, read: @escaping @Sendable (String?, Int) async throws -> [Item],
                                   id: (Item) -> String, isChanged: (Item) throws -> Bool,
                                   write: ([Item]) throws -> AddSummary) throws -> AddSummary {
        var total = AddSummary()
        var progress = Progress(total: try runAsync { try await source.count() }, label: "copying ")
        defer { progress.finish() }
        var last: String?
        let size = batch
        while true {
            let after = last
            let page = try runAsync { try await read(after, size) }
            guard let tail = page.last else { break }
            let changed = try page.filter(isChanged)
            let done = try write(changed)
            total.added += done.added; total.replaced += done.replaced; total.unchanged += page.count - changed.count
            progress.update(total.added + total.replaced + total.unchanged)
            last = id(tail)
        }
        return total
    }

    /// LMDB -> PostgreSQL for a vector index: its model, storage and stored vectors' bytes.
    func copyVectors(_ source: VectorIndex, to location: PostgresLocation, name: String) throws -> AddSummary {
        let (model, storage) = (source.model, source.settings.storage)
        let target = try runAsync { try await PostgresVectorIndex.open(at: location, name: name, model: model, storage: storage) }
        defer { _ = try? runAsync { await target.close() } }
        var total = AddSummary()
        var progress = Progress(total: try source.count, label: "copying ")
        defer { progress.finish() }
        var pending: [(entry: IndexEntry, vectorBytes: [UInt8])] = []
        func send() throws {
            let items = pending
            let done = try runAsync { try await target.store.addVectors(items.map(\.entry), vectors: items.map(\.vectorBytes)) }
            total += done
            pending.removeAll(keepingCapacity: true)
            progress.update(total.added + total.replaced + total.unchanged)
        }
        try source.forEachStoredVector { entry, bytes in
            pending.append((entry, bytes))
            if pending.count == batch { try send() }
            return true
        }
        if !pending.isEmpty { try send() }
        return total
    }

    /// PostgreSQL -> LMDB for a vector index: into a new vector index with the same model and
    /// storage (or one an earlier copy made), pages in id order.
    func copyVectors(_ source: PostgresCodeIndex) throws -> AddSummary {
        let vectors = try runAsync { try await PostgresVectorIndex.over(source) }
        let target: VectorIndex
        if FileManager.default.fileExists(atPath: to + "/data.mdb") {
            guard case .vectors(let existing) = try AnyIndex.open(at: to) else {
                throw ValidationError("\(to) is not a vector index: copy into a new directory (the copy of \(source.path) is a vector index)")
            }
            target = existing
            guard target.model.bits == source.bits, target.settings.storage == vectors.storage,
                  try ModelFile.fingerprint(target.model) == source.modelFingerprint else {
                throw ValidationError("\(to) is a vector index of another model or storage: copy into a new directory")
            }
        } else {
            target = try VectorIndex.create(at: to, model: vectors.model, storage: vectors.storage)
        }
        // Items equal to the stored ones are counted unchanged and not written.
        return try copyPages(of: source, read: { try await source.vectorEntries(after: $0, limit: $1) }, id: \.entry.id,
                             isChanged: { item in
                                 guard let stored = try target.storedItem(for: item.entry.id) else { return true }
                                 return stored.code != item.entry.code || stored.vectorBytes != item.vectorBytes || stored.metadata != item.entry.metadata
                             },
                             write: { try target.add(stored: $0) })
    }
}
