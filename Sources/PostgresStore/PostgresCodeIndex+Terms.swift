import BinaryCodes
import CodeStore
import Foundation
import PostgresNIO

/// The lexical stage of an index of text documents (layout 2), kept in step with the codes by
/// the same transactions, as an LMDB index keeps it (`CodeIndex+Terms.swift`):
/// - in the index's table, `terms bytea` (the document's term record, `TermCounts`' stored form:
///   term hashes with counts and the length) and `hashes bigint[]` (its distinct term hashes,
///   under a GIN index: the documents holding a rare term are one index lookup);
/// - `tqdf_NAME (hash bigint PRIMARY KEY, df integer NOT NULL)`: documents holding each term
///   (absent at 0), what BM25's IDF reads;
/// - in the index's row of `tq_indexes`, `terms_docs` and `terms_length` (documents with terms and
///   their summed lengths, for BM25's average length) and `model` (the model's file, so that the
///   database alone answers text queries, as an LMDB index's directory does).
///
/// Writers of one index take its `tq_indexes` row first (`SELECT ... FOR UPDATE`), so the
/// document frequencies and statistics change one transaction at a time, as LMDB's single writer
/// changes them; readers are never blocked.
extension PostgresCodeIndex {
    /// The table of document frequencies ("tqdf_" cannot begin an index's "tq_" table name).
    var frequencyTable: String { "tqdf_" + name }

    /// Creates the lexical stage's columns, table and index for a new index of text documents.
    func createTermTables(_ c: PostgresConnection, modelFile: [UInt8]) async throws {
        try await c.query("""
            ALTER TABLE tq_indexes ADD COLUMN IF NOT EXISTS terms_docs bigint NOT NULL DEFAULT 0,
                ADD COLUMN IF NOT EXISTS terms_length bigint NOT NULL DEFAULT 0, ADD COLUMN IF NOT EXISTS model bytea
            """, logger: logger)
        try await c.query("UPDATE tq_indexes SET model = \(ByteBuffer(bytes: modelFile)) WHERE name = \(name)", logger: logger)
        try await c.query("ALTER TABLE \(unescaped: table) ADD COLUMN terms bytea, ADD COLUMN hashes bigint[]", logger: logger)
        try await c.query("CREATE INDEX \(unescaped: table)_hashes ON \(unescaped: table) USING gin (hashes)", logger: logger)
        try await c.query("CREATE TABLE \(unescaped: frequencyTable) (hash bigint PRIMARY KEY, df integer NOT NULL)", logger: logger)
    }

    /// The model's file kept by an index of text documents or vectors (nil for an index of codes).
    public func modelFile() async throws -> [UInt8]? {
        guard keepsTerms || keepsVectors else { return nil }
        let buffer = try await singleValue("SELECT model FROM tq_indexes WHERE name = \(name)", as: ByteBuffer?.self)
        return buffer??.getBytes(at: 0, length: buffer!!.readableBytes)
    }

    /// The lexical stage's collection statistics: documents with terms and their summed length.
    public func termStatistics() async throws -> (documents: Int, totalLength: Int) {
        guard keepsTerms else { return (0, 0) }
        return try await run {
            try await withConnection { c in try await Self.termStatistics(c, name: name, logger: logger) }
        }
    }

    static func termStatistics(_ c: PostgresConnection, name: String, logger: Logger) async throws -> (documents: Int, totalLength: Int) {
        var out = (documents: 0, totalLength: 0)
        for try await (docs, length) in try await c.query("SELECT terms_docs, terms_length FROM tq_indexes WHERE name = \(name)", logger: logger)
            .decode((Int, Int).self) { out = (docs, length) }
        return out
    }

    /// Documents holding each of `hashes` (0 for a term none holds), in the order given.
    func documentFrequencies(_ c: PostgresConnection, _ hashes: [UInt64]) async throws -> [Int] {
        guard !hashes.isEmpty else { return [] }
        var found: [UInt64: Int] = [:]
        let rows = try await c.query("SELECT hash, df FROM \(unescaped: frequencyTable) WHERE hash = ANY(\(hashes.map { Int64($0) })::bigint[])", logger: logger)
        for try await (hash, df) in rows.decode((Int64, Int).self) { found[UInt64(hash)] = df }
        return hashes.map { found[$0] ?? 0 }
    }

    /// Applies the changes of one writing transaction to the document frequencies and the
    /// statistics: term hash -> documents gained minus lost, and the documents and lengths
    /// gained minus lost. Hashes go in ascending order (no two writers wait on each other's rows
    /// the other way round; they are serialised by the `tq_indexes` row anyway).
    func applyTermChanges(_ c: PostgresConnection, frequencies: [UInt64: Int], documents: Int, length: Int) async throws {
        let changed = frequencies.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        if !changed.isEmpty {
            let hashes = changed.map { Int64($0.key) }, deltas = changed.map(\.value)
            try await c.query("""
                INSERT INTO \(unescaped: frequencyTable) AS f (hash, df) SELECT * FROM unnest(\(hashes)::bigint[], \(deltas)::integer[])
                ON CONFLICT (hash) DO UPDATE SET df = f.df + EXCLUDED.df
                """, logger: logger)
            try await c.query("DELETE FROM \(unescaped: frequencyTable) WHERE hash = ANY(\(hashes)::bigint[]) AND df <= 0", logger: logger)
        }
        if documents != 0 || length != 0 {
            try await c.query("UPDATE tq_indexes SET terms_docs = terms_docs + \(documents), terms_length = terms_length + \(length) WHERE name = \(name)",
                              logger: logger)
        }
    }

    /// Takes the index's `tq_indexes` row for this transaction: writers of its terms go one at a time.
    func lockForTermWrites(_ c: PostgresConnection) async throws {
        try await c.query("SELECT 1 FROM tq_indexes WHERE name = \(name) FOR UPDATE", logger: logger)
    }

    /// The stored term records of `ids` that have one.
    func termRecords(_ c: PostgresConnection, ids: [String]) async throws -> [String: [UInt8]] {
        try await bytes(of: "terms", ids: ids, c)
    }

    /// A term record's distinct hashes and length (nil when the bytes are not a record).
    static func decodeTerms(_ bytes: [UInt8]) -> TermCounts? {
        bytes.withUnsafeBytes { TermCounts(encoded: $0) }
    }
}
