import BinaryCodes
import CodeStore
import Foundation
import PostgresNIO

// Approximate search through pgvector: an HNSW graph over the code column (`bit_hamming_ops`)
// and `ORDER BY code <~> query`. pgvector 0.7 or later, on the server, is needed; the exact
// path (`nearest`, `within`) never uses the graph and needs no extension.
extension PostgresCodeIndex {
    /// The oldest pgvector that searches `bit(n)` columns by Hamming distance.
    public static let minimumPgvector = (0, 7)

    /// The HNSW index's name: the table's, with `_hnsw`.
    var hnswIndex: String { table + "_hnsw" }

    /// The settings of an HNSW graph (pgvector's `WITH (m, ef_construction)`).
    public struct GraphSettings: Sendable, Equatable {
        /// Neighbours per node and layer; pgvector takes 2 to 100 (default 16).
        public var m = 16
        /// Candidates kept while building; pgvector takes 4 to 1,000 and at least 2 x m (default 64).
        public var efConstruction = 64

        public init(m: Int = 16, efConstruction: Int = 64) {
            self.m = m
            self.efConstruction = efConstruction
        }

        func validate() throws {
            guard (2...100).contains(m) else { throw IndexError.invalidSetting("the HNSW graph's m must be 2 to 100 (got \(m))") }
            guard (4...1_000).contains(efConstruction), efConstruction >= 2 * m else {
                throw IndexError.invalidSetting("the HNSW graph's ef_construction must be 4 to 1,000 and at least 2 x m = \(2 * m) (got \(efConstruction))")
            }
        }
    }

    /// The version of pgvector installed in this database (`CREATE EXTENSION vector` done), or
    /// nil when it is not.
    public func pgvectorVersion() async throws -> String? {
        try await singleValue("SELECT extversion FROM pg_extension WHERE extname = 'vector'", as: String.self)
    }

    /// The settings of the index's HNSW graph, or nil when it has none.
    public func graph() async throws -> GraphSettings? {
        guard let options = try await singleValue("""
            SELECT COALESCE(array_to_string(i.reloptions, ','), '') FROM pg_class i
            WHERE i.relname = \(hnswIndex) AND i.relkind = 'i' AND i.relnamespace = current_schema()::regnamespace
            """, as: String.self) else { return nil }
        var settings = GraphSettings()
        for option in options.split(separator: ",") {
            let parts = option.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int(parts[1]) else { continue }
            if parts[0] == "m" { settings.m = value }
            if parts[0] == "ef_construction" { settings.efConstruction = value }
        }
        return settings
    }

    /// Whether the index has its HNSW graph.
    public func hasGraph() async throws -> Bool { try await graph() != nil }

    /// Builds the HNSW graph over the codes (replacing one that exists), installing pgvector in
    /// the database first when the server has it but the database does not. Later adds and
    /// removes keep the graph up to date in their own transactions (PostgreSQL maintains it).
    /// - Throws: `IndexError.invalidSetting` when the server has no pgvector 0.7 or later, or
    ///   for settings pgvector refuses; `IndexError.storage` for what the server says.
    public func buildGraph(_ settings: GraphSettings = GraphSettings()) async throws {
        try settings.validate()
        try await ensurePgvector()
        try await run {
            try await withTransaction { c in
                try await c.query("DROP INDEX IF EXISTS \(unescaped: hnswIndex)", logger: logger)
                try await c.query("""
                    CREATE INDEX \(unescaped: hnswIndex) ON \(unescaped: table) USING hnsw (code bit_hamming_ops)
                    WITH (m = \(unescaped: String(settings.m)), ef_construction = \(unescaped: String(settings.efConstruction)))
                    """, logger: logger)
            }
        }
    }

    /// Drops the HNSW graph (searches with `efSearch` are refused afterwards).
    public func dropGraph() async throws {
        _ = try await run { try await withConnection { c in try await c.query("DROP INDEX IF EXISTS \(unescaped: hnswIndex)", logger: logger) } }
    }

    /// The `k` nearest items to each query by way of the HNSW graph: approximate (a true
    /// neighbour may be missed; none of the answers is wrong: each distance is the exact Hamming
    /// distance of that item), ascending by (distance, id). `efSearch` is pgvector's
    /// `hnsw.ef_search` (candidates kept while searching, 1 to 1,000; raised to `k` when smaller,
    /// since pgvector returns at most that many): larger finds more true neighbours, slower.
    /// - Throws: `IndexError.invalidSetting` when the index has no graph (`buildGraph()`) or for
    ///   a bad `efSearch`; as `nearest(to:k:fields:)`.
    public func approximateNearest(to queries: CodeMatrix, k: Int, efSearch: Int, fields: Bool = true) async throws -> [[SearchHit]] {
        try HammingSearch.check(k: k)
        guard queries.bits == bits else { throw IndexError.widthMismatch(path: path, indexBits: bits, codeBits: queries.bits) }
        guard (1...1_000).contains(efSearch) else { throw IndexError.invalidSetting("ef_search must be 1 to 1,000 (got \(efSearch))") }
        guard k <= 1_000 else { throw IndexError.invalidSetting("an approximate search returns at most 1,000 neighbours (pgvector's largest ef_search); for k = \(k) search exactly") }
        guard try await hasGraph() else {
            throw IndexError.invalidSetting("\(path) has no HNSW graph: build it first (`twentyq tables --db \(path) --graph`, or buildGraph()), or search exactly")
        }
        let ef = max(efSearch, k)
        var out: [[SearchHit]] = []
        for q in 0..<queries.count {
            let query = queries[q].bitString
            let hits = try await run {
                try await withTransaction { c in
                    // SET LOCAL: the setting ends with the transaction, so a pooled connection
                    // goes back as it came.
                    try await c.query("SET LOCAL hnsw.ef_search = \(unescaped: String(ef))", logger: logger)
                    // Index scans only, so the graph (not a scan PostgreSQL might prefer for a
                    // small table) answers, and the answers are the graph's.
                    try await c.query("SET LOCAL enable_seqscan = off", logger: logger)
                    return try await Self.hits(try await c.query("""
                        SELECT id, bit_count(code # \(query)::bit(\(unescaped: String(bits))))::bigint AS d, COALESCE(fields::text, '')
                        FROM \(unescaped: table) ORDER BY code <~> \(query)::bit(\(unescaped: String(bits))) LIMIT \(k)
                        """, logger: logger), fields: fields)
                }
            }
            out.append(hits.sorted { ($0.distance, $0.id) < ($1.distance, $1.id) })
        }
        return out
    }

    /// Installs pgvector in the database when the server has it (0.7 or later).
    /// Makes the transaction's nearest-code searches go through the graph, at `efSearch`, and
    /// continue past it until their LIMIT is met (pgvector 0.8's iterative scans). SET LOCAL: the
    /// settings end with the transaction, so a pooled connection goes back as it came.
    func setGraphSearch(_ c: PostgresConnection, efSearch: Int) async throws {
        try await c.query("SET LOCAL hnsw.ef_search = \(unescaped: String(efSearch))", logger: logger)
        try await c.query("SET LOCAL hnsw.iterative_scan = relaxed_order", logger: logger)
        try await c.query("SET LOCAL hnsw.max_scan_tuples = 1000000", logger: logger)
        try await c.query("SET LOCAL enable_seqscan = off", logger: logger)
    }

    /// Refuses a text shortlist through the graph that cannot run: `efSearch` outside 1 to
    /// 1,000, no graph, or pgvector older than 0.8 (no iterative scans, so no shortlist longer
    /// than `ef_search`).
    func checkIterativeGraphSearch(efSearch: Int) async throws {
        guard (1...1_000).contains(efSearch) else { throw IndexError.invalidSetting("ef_search must be 1 to 1,000 (got \(efSearch))") }
        guard try await hasGraph() else {
            throw IndexError.invalidSetting("\(path) has no HNSW graph: build it first (`twentyq tables --db \(path) --graph`, or buildGraph()), or search exactly")
        }
        let version = try await pgvectorVersion() ?? ""
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2, (parts[0], parts[1]) >= (0, 8) else {
            throw IndexError.invalidSetting("a text query's shortlist through the graph needs pgvector 0.8 or later (iterative scans); \(location) has \(version.isEmpty ? "none" : version): search exactly, or update pgvector")
        }
    }

    private func ensurePgvector() async throws {
        let available = try await singleValue("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'", as: String.self)
        guard let available else {
            throw IndexError.invalidSetting("the PostgreSQL server at \(location) has no pgvector ('vector' is not among its available extensions): install pgvector 0.7 or later there (packages postgresql-NN-pgvector from apt.postgresql.org, or build it from github.com/pgvector/pgvector), or search exactly")
        }
        var installed = try await pgvectorVersion()
        if installed == nil {
            _ = try await run { try await withConnection { c in try await c.query("CREATE EXTENSION IF NOT EXISTS vector", logger: logger) } }
            installed = try await pgvectorVersion()
        }
        let version = installed ?? available
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2, (parts[0], parts[1]) >= Self.minimumPgvector else {
            throw IndexError.invalidSetting("pgvector \(version) in \(location) cannot search bit columns by Hamming distance: 0.7 or later is needed (ALTER EXTENSION vector UPDATE after installing a newer one)")
        }
    }
}
