import BinaryCodes
import CodeStore
import Foundation
import Logging
import PostgresNIO

/// An index of codes in PostgreSQL: one table per index, `tq_NAME (id text PRIMARY KEY, code
/// bit(BITS) NOT NULL, fields jsonb)`, and one row per index in `tq_indexes` (its width, model
/// fingerprint and format). The same add/replace/remove semantics and the same model check as a
/// `CodeIndex` in LMDB. An index of text documents (layout 2, created with its model file) also
/// keeps each document's terms and the model (`PostgresCodeIndex+Terms.swift`), for the same
/// ranked search as an LMDB index's (`rank`). Searches by code run in SQL:
///
/// - k nearest: `ORDER BY bit_count(code # $1), id LIMIT k`, exact, ties by id (a `CodeIndex`
///   breaks ties by slot; over the same codes the distances are the same);
/// - radius: `WHERE bit_count(code # $1) <= r`.
///
/// Bit i of a code is character i of its bit string (the order `BinaryCode.bitString` writes).
/// Metadata must be a JSON object (or empty): it is kept as `jsonb` and comes back as the hits'
/// `fields`. Each call is one statement or one transaction. An index opened `at` a location has
/// a connection of its own, so calls on it run one at a time (open one per concurrent user); an
/// index opened `in` a `PostgresPool` takes a pooled connection per call, so concurrent calls
/// run on as many connections as the pool allows.
public final class PostgresCodeIndex: Sendable {
    public let location: PostgresLocation
    public let name: String
    public let bits: Int
    public let modelFingerprint: String
    /// The table layout: 1 for codes, 2 for text documents (terms and model kept too).
    public let format: Int
    let session: Session
    let logger = Logger(label: "twentyq.postgres")

    /// Where statements go: the index's own connection, or a pool's.
    enum Session: Sendable {
        case connection(PostgresConnection)
        case pool(PostgresClient)
    }

    /// The newest table layout this version reads and writes: 1 holds codes, 2 (text documents)
    /// adds each document's terms, their document frequencies, the collection's statistics and
    /// the model, 3 (vectors) a vector model and each item's stored vector. A codes index stays at
    /// layout 1, so older versions still read it.
    public static let formatVersion = 3

    /// Whether the index keeps text documents' terms and its model (layout 2).
    public var keepsTerms: Bool { format == 2 }
    /// Whether the index is a vector index: a vector model, and each item's vector when the
    /// index stores them (layout 3, `PostgresCodeIndex+Vectors.swift`).
    public var keepsVectors: Bool { format == 3 }

    private init(location: PostgresLocation, name: String, bits: Int, modelFingerprint: String, format: Int, session: Session) {
        self.location = location
        self.name = name
        self.bits = bits
        self.modelFingerprint = modelFingerprint
        self.format = format
        self.session = session
    }

    /// Runs `body` on a connection: the index's own, or one leased from the pool for the call.
    /// `body` must read every row it asks for before it returns.
    func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        switch session {
        case .connection(let connection): return try await body(connection)
        case .pool(let client): return try await client.withConnection { try await body($0) }
        }
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    func withTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.withTransaction(logger: logger) { try await body($0) }
        }
    }

    /// The index's table.
    var table: String { "tq_" + name }

    /// Index names: 1 to 48 lowercase letters, digits or '_' (they become table names).
    public static func checkName(_ name: String) throws {
        guard (1...48).contains(name.count), name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) else {
            throw IndexError.invalidSetting("a PostgreSQL index name is 1 to 48 lowercase letters, digits or '_' (got '\(name.prefix(60))')")
        }
    }

    static func connect(_ location: PostgresLocation) async throws -> PostgresConnection {
        let configuration = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.username,
                                                             password: location.password, database: location.database, tls: .disable)
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Logger(label: "twentyq.postgres"))
        } catch {
            throw IndexError.storage(path: location.description, detail: "cannot connect: \(Self.describe(error)); is PostgreSQL running there, and may this user log in?")
        }
    }

    /// Creates the index `name` (and the `tq_indexes` table on first use), with a connection of its own.
    /// - Throws: `IndexError.alreadyExists`, `.invalidSetting` for a bad name, `CodeError.unsupportedWidth`.
    /// With `modelFile` (the model's file, `ModelFile.encode`), an index of text documents
    /// (layout 2): it keeps the model and the documents' terms.
    public static func create(at location: PostgresLocation, name: String, bits: Int, modelFingerprint: String = "",
                              modelFile: [UInt8]? = nil) async throws -> PostgresCodeIndex {
        try checkName(name)
        guard BinaryCode.supportedBits.contains(bits) else { throw CodeError.unsupportedWidth(bits: bits) }
        let connection = try await connect(location)
        do {
            return try await create(.connection(connection), location: location, name: name, bits: bits, modelFingerprint: modelFingerprint,
                                    modelFile: modelFile)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Creates the index `name` in `pool`'s database; its calls take the pool's connections.
    /// - Throws: as `create(at:name:bits:modelFingerprint:)`.
    public static func create(in pool: PostgresPool, name: String, bits: Int, modelFingerprint: String = "",
                              modelFile: [UInt8]? = nil) async throws -> PostgresCodeIndex {
        try checkName(name)
        guard BinaryCode.supportedBits.contains(bits) else { throw CodeError.unsupportedWidth(bits: bits) }
        return try await create(.pool(pool.client), location: pool.location, name: name, bits: bits, modelFingerprint: modelFingerprint,
                                modelFile: modelFile)
    }

    /// A vector index's layout: how its vectors are stored (a storage's name; nil: codes only).
    enum VectorLayout { case stored(String?) }

    /// Creates the vector index `name` at `location` (layout 3): codes from the vector model whose
    /// file is `modelFile`, and each item's vector in `vectorStorage`'s bytes (nil: codes only).
    public static func createVectors(at location: PostgresLocation, name: String, bits: Int, modelFingerprint: String,
                                     modelFile: [UInt8], vectorStorage: String?) async throws -> PostgresCodeIndex {
        try checkName(name)
        guard BinaryCode.supportedBits.contains(bits) else { throw CodeError.unsupportedWidth(bits: bits) }
        let connection = try await connect(location)
        do {
            return try await create(.connection(connection), location: location, name: name, bits: bits, modelFingerprint: modelFingerprint,
                                    modelFile: modelFile, vectors: .stored(vectorStorage))
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// As `createVectors(at:...)`, with the calls taking `pool`'s connections.
    public static func createVectors(in pool: PostgresPool, name: String, bits: Int, modelFingerprint: String,
                                     modelFile: [UInt8], vectorStorage: String?) async throws -> PostgresCodeIndex {
        try checkName(name)
        guard BinaryCode.supportedBits.contains(bits) else { throw CodeError.unsupportedWidth(bits: bits) }
        return try await create(.pool(pool.client), location: pool.location, name: name, bits: bits, modelFingerprint: modelFingerprint,
                                modelFile: modelFile, vectors: .stored(vectorStorage))
    }

    private static func create(_ session: Session, location: PostgresLocation, name: String, bits: Int, modelFingerprint: String,
                               modelFile: [UInt8]?, vectors: VectorLayout? = nil) async throws -> PostgresCodeIndex {
        let index = PostgresCodeIndex(location: location, name: name, bits: bits, modelFingerprint: modelFingerprint,
                                      format: vectors != nil ? 3 : modelFile == nil ? 1 : 2, session: session)
        try await index.run {
            try await index.withTransaction { c in
                try await c.query("CREATE TABLE IF NOT EXISTS tq_indexes (name text PRIMARY KEY, bits integer NOT NULL, model_fingerprint text NOT NULL, format integer NOT NULL)", logger: index.logger)
                let inserted = try await c.query("INSERT INTO tq_indexes VALUES (\(name), \(bits), \(modelFingerprint), \(index.format)) ON CONFLICT (name) DO NOTHING RETURNING name", logger: index.logger)
                var created = false
                for try await _ in inserted { created = true }
                guard created else { throw IndexError.alreadyExists(path: index.path) }
                try await c.query("CREATE TABLE \(unescaped: index.table) (id text PRIMARY KEY, code bit(\(unescaped: String(bits))) NOT NULL, fields jsonb)", logger: index.logger)
                if let modelFile, case .stored(let storage) = vectors { try await index.createVectorTables(c, modelFile: modelFile, storage: storage) }
                else if let modelFile { try await index.createTermTables(c, modelFile: modelFile) }
            }
        }
        return index
    }

    /// Opens the index `name`, with a connection of its own.
    /// - Throws: `IndexError.noIndex` when there is none, `.modelMismatch` when
    ///   `modelFingerprint` is given and differs, `.unsupportedFormat` for a newer layout.
    public static func open(at location: PostgresLocation, name: String, modelFingerprint: String? = nil) async throws -> PostgresCodeIndex {
        try checkName(name)
        let connection = try await connect(location)
        do {
            return try await open(.connection(connection), location: location, name: name, modelFingerprint: modelFingerprint)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Opens the index `name` in `pool`'s database; its calls take the pool's connections.
    /// - Throws: as `open(at:name:modelFingerprint:)`.
    public static func open(in pool: PostgresPool, name: String, modelFingerprint: String? = nil) async throws -> PostgresCodeIndex {
        try checkName(name)
        return try await open(.pool(pool.client), location: pool.location, name: name, modelFingerprint: modelFingerprint)
    }

    private static func open(_ session: Session, location: PostgresLocation, name: String, modelFingerprint: String?) async throws -> PostgresCodeIndex {
        let path = "\(location)#\(name)"
        let probe = PostgresCodeIndex(location: location, name: name, bits: 0, modelFingerprint: "", format: 1, session: session)
        do {
            let found: (Int, String, Int)? = try await probe.withConnection { connection in
                let rows = try await connection.query("SELECT bits, model_fingerprint, format FROM tq_indexes WHERE name = \(name)", logger: probe.logger)
                var found: (Int, String, Int)?
                for try await (bits, fingerprint, format) in rows.decode((Int, String, Int).self) { found = (bits, fingerprint, format) }
                return found
            }
            guard let (bits, fingerprint, format) = found else { throw IndexError.noIndex(path: path) }
            guard format <= formatVersion else { throw IndexError.unsupportedFormat(path: path, found: UInt32(format), supported: UInt32(formatVersion)) }
            if let modelFingerprint, modelFingerprint != fingerprint {
                throw IndexError.modelMismatch(path: path, index: fingerprint, given: modelFingerprint)
            }
            return PostgresCodeIndex(location: location, name: name, bits: bits, modelFingerprint: fingerprint, format: format, session: session)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P01" {
            throw IndexError.noIndex(path: path)
        } catch {
            throw error is IndexError ? error : IndexError.storage(path: location.description, detail: describe(error))
        }
    }

    /// Every index in `pool`'s database, sorted by name, opened in the pool from one read of
    /// `tq_indexes` (none when no index was ever created there; an index of a newer layout than
    /// this version reads is left out).
    public static func all(in pool: PostgresPool) async throws -> [PostgresCodeIndex] {
        let probe = PostgresCodeIndex(location: pool.location, name: "", bits: 0, modelFingerprint: "", format: 1, session: .pool(pool.client))
        return try await probe.run {
            try await probe.withConnection { connection in
                var out: [PostgresCodeIndex] = []
                do {
                    let rows = try await connection.query("SELECT name, bits, model_fingerprint, format FROM tq_indexes ORDER BY name", logger: probe.logger)
                    for try await (name, bits, fingerprint, format) in rows.decode((String, Int, String, Int).self) where format <= formatVersion {
                        out.append(PostgresCodeIndex(location: pool.location, name: name, bits: bits, modelFingerprint: fingerprint, format: format,
                                                     session: .pool(pool.client)))
                    }
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P01" {
                    return []
                }
                return out
            }
        }
    }

    /// Drops the index's table and its row in `tq_indexes`.
    public func drop() async throws {
        try await run {
            try await withTransaction { c in
                try await c.query("DROP TABLE IF EXISTS \(unescaped: table), \(unescaped: frequencyTable)", logger: logger)
                try await c.query("DELETE FROM tq_indexes WHERE name = \(name)", logger: logger)
            }
        }
    }

    /// How many parallel workers PostgreSQL may use for one search on this connection
    /// (`max_parallel_workers_per_gather`; 0: none, the search runs in the one backend).
    /// - Throws: `IndexError.invalidSetting` for an index opened in a pool (a setting of one
    ///   pooled connection would hold for whichever call leases it next): set it for the role
    ///   there (`ALTER ROLE ... SET max_parallel_workers_per_gather = N`).
    public func setParallelWorkers(_ workers: Int) async throws {
        guard (0...64).contains(workers) else { throw IndexError.invalidSetting("parallel workers must be 0 to 64 (got \(workers))") }
        guard case .connection(let connection) = session else {
            throw IndexError.invalidSetting("parallel workers are set per connection, and this index takes pooled connections: set max_parallel_workers_per_gather for the database role (ALTER ROLE ... SET) instead")
        }
        _ = try await run { try await connection.query("SET max_parallel_workers_per_gather = \(unescaped: String(workers))", logger: logger) }
    }

    /// Closes the index's own connection (an index in a pool leaves the pool open: its owner
    /// ends it).
    public func close() async {
        if case .connection(let connection) = session { try? await connection.close() }
    }

    /// Where it is, for messages: the database URL (no password) and the index's name.
    public var path: String { "\(location)#\(name)" }

    /// Items in the index.
    public func count() async throws -> Int {
        try await singleValue("SELECT count(*)::bigint FROM \(unescaped: table)", as: Int.self) ?? 0
    }

    /// Bytes of the index's table with its indexes and TOAST (`pg_total_relation_size`).
    public func tableBytes() async throws -> Int {
        try await singleValue("SELECT pg_total_relation_size(\(table)::regclass)::bigint", as: Int.self) ?? 0
    }

    /// The one column of the one row `query` returns (a statement of a single value), or nil
    /// when it returns no row.
    func singleValue<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type) async throws -> T? {
        try await run {
            try await withConnection { connection in
                var found: T?
                for try await (value,) in try await connection.query(query, logger: logger).decode((T,).self) { found = value }
                return found
            }
        }
    }

    /// Runs `body`, turning PostgreSQL's errors into `IndexError.storage` with the server's words.
    func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as IndexError {
            throw error
        } catch let error as CodeError {
            throw error
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError as? IndexError { throw inner }
            if let inner = error.closureError as? CodeError { throw inner }
            throw IndexError.storage(path: path, detail: Self.describe(error.closureError ?? error.beginError ?? error.commitError ?? error))
        } catch {
            throw IndexError.storage(path: path, detail: Self.describe(error))
        }
    }

    /// The server's message for a PostgreSQL error (PSQLError's own description hides it).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
            }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
