// TwentyQPostgres: the library's index of text documents with PostgreSQL as its store, for a
// service whose documents already live in a database (`import TwentyQPostgres`; the CLI's
// `--db postgres://...#NAME` and `serve --postgres` use the same type). It re-exports the
// PostgreSQL store (`PostgresCodeIndex`, `PostgresLocation`, `PostgresPool`).
@_exported import PostgresStore
import BinaryCodes
import CodeStore
import Encoder
import TwentyQ

/// An index of text documents kept in PostgreSQL: what `DocumentIndex` is over LMDB, with the
/// same documents, the same ranking (codes' shortlist, rare terms, BM25, RM3; ties broken by id
/// instead of by the order documents came in) and the same model check. The index keeps its
/// model in the database (a text index of `PostgresCodeIndex`, layout 2), so it is opened with
/// its location and name alone.
///
/// Each call is one transaction. An index opened `at` a location holds one connection (calls run
/// one at a time: open one per concurrent user); one opened `in` a `PostgresPool` takes a pooled
/// connection per call.
public final class PostgresDocumentIndex: Sendable {
    /// The table and its SQL operations (codes, terms, searches by code).
    public let store: PostgresCodeIndex
    /// The index's model (the copy it keeps, or the one it was opened with, which must match).
    public let model: EncoderModel

    /// Over an open text index and its decoded model (a server that opens indexes per request and
    /// keeps their models: `serve --postgres`); the caller has checked that they belong together.
    package init(store: PostgresCodeIndex, model: EncoderModel) {
        self.store = store
        self.model = model
    }

    /// Opens the index `name` at `location` (its own connection), or creates it with `model`
    /// (default: the shipped model) when it is missing and `create` is true.
    /// - Throws: `IndexError.noIndex` (missing, `create` false), `.modelMismatch` (`model`
    ///   differs from the index's), `.kindMismatch` for an index of codes, `.damagedModel`,
    ///   `.storage` with PostgreSQL's words.
    public static func open(at location: PostgresLocation, name: String, model: EncoderModel? = nil,
                            create: Bool = true) async throws -> PostgresDocumentIndex {
        try await open(model: model, create: create, opening: { try await PostgresCodeIndex.open(at: location, name: name, modelFingerprint: $0) },
                       creating: { try await PostgresCodeIndex.create(at: location, name: name, bits: $0.bits, modelFingerprint: $1, modelFile: $2) })
    }

    /// As `open(at:name:model:create:)`, with the calls taking `pool`'s connections.
    public static func open(in pool: PostgresPool, name: String, model: EncoderModel? = nil,
                            create: Bool = true) async throws -> PostgresDocumentIndex {
        try await open(model: model, create: create, opening: { try await PostgresCodeIndex.open(in: pool, name: name, modelFingerprint: $0) },
                       creating: { try await PostgresCodeIndex.create(in: pool, name: name, bits: $0.bits, modelFingerprint: $1, modelFile: $2) })
    }

    private static func open(model: EncoderModel?, create: Bool,
                             opening: (String?) async throws -> PostgresCodeIndex,
                             creating: (EncoderModel, String, [UInt8]) async throws -> PostgresCodeIndex) async throws -> PostgresDocumentIndex {
        let fingerprint = try model.map { try ModelFile.fingerprint($0) }
        let store: PostgresCodeIndex
        do {
            store = try await opening(fingerprint)
        } catch IndexError.noIndex where create {
            let chosen = try model ?? DefaultModel.load()
            let created = try await creating(chosen, try ModelFile.fingerprint(chosen), try ModelFile.encode(chosen))
            return PostgresDocumentIndex(store: created, model: chosen)
        }
        do {
            guard store.keepsTerms, let file = try await store.modelFile() else {
                throw IndexError.kindMismatch(path: store.path, holds: .codes, wanted: .documents)
            }
            if let model { return PostgresDocumentIndex(store: store, model: model) }
            do {
                return PostgresDocumentIndex(store: store, model: try ModelFile.decode(file, path: store.path + " (stored model)"))
            } catch let error as ModelFileError {
                throw IndexError.damagedModel(path: store.path, detail: error.reason)
            }
        } catch {
            await store.close()
            throw error
        }
    }

    /// Where it is, for messages: the database URL (no password) and the index's name.
    public var path: String { store.path }

    /// Documents in the index.
    public func count() async throws -> Int { try await store.count() }

    /// Adds or replaces `documents` in one transaction (all or none), encoding them on `threads`
    /// threads; a document whose text and fields are unchanged is left so. Its fields come back
    /// with each hit, with the index's own "hash" and "snippet".
    /// - Throws: `IndexError.duplicateID`, `.invalidID`; nothing is written then.
    @discardableResult
    public func add(_ documents: [Document], threads: Int = SearchOptions.onlineCores) async throws -> AddSummary {
        try await store.add(try TextEncoding(model: model).entries(documents, threads: threads))
    }

    /// Removes documents by id (all, or none when one is unknown: `IndexError.unknownID`).
    @discardableResult
    public func remove(ids: [String]) async throws -> Int { try await store.remove(ids: ids) }

    /// The best `k` documents for `text`, ranked as `ranking` says (with `efSearch`, the codes'
    /// shortlist through the HNSW graph: `PostgresCodeIndex.rank`).
    public func search(_ text: String, k: Int = 10, ranking: RankingOptions = RankingOptions(), efSearch: Int? = nil) async throws -> TextSearchResult {
        try await search(texts: [text], k: k, ranking: ranking, efSearch: efSearch)[0]
    }

    /// The best `k` documents for each text, one query after another. With `fields: false` the
    /// hits carry ids, distances and scores only.
    public func search(texts: [String], k: Int = 10, ranking: RankingOptions = RankingOptions(), fields: Bool = true,
                       efSearch: Int? = nil, threads: Int = SearchOptions.onlineCores) async throws -> [TextSearchResult] {
        var out: [TextSearchResult] = []
        for query in TextEncoding(model: model).rankedQueries(texts, ranking: ranking, threads: threads) {
            let r = try await store.rank(query, k: k, options: ranking, fields: fields, efSearch: efSearch)
            out.append(TextSearchResult(hits: r.hits, lexicalOnly: r.lexicalOnly, usedTerms: r.usedTerms))
        }
        return out
    }

    /// Every document within Hamming distance `radius` of `text`'s code, by (distance, id).
    public func search(_ text: String, radius: Int) async throws -> [SearchHit] {
        try await store.within(radius: radius, of: model.encode(text))
    }

    /// Closes the index's own connection (an index in a pool leaves the pool to its owner).
    public func close() async { await store.close() }
}
