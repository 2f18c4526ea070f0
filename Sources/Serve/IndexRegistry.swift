import Foundation
import PostgresStore
import TwentyQ
import TwentyQPostgres

/// The indexes under the data directory, each opened once for the life of the server (LMDB
/// forbids opening one environment twice in a process) and shared by every request: reads
/// run in parallel, writes go through the index's `IndexWriter`. With a PostgreSQL pool, also
/// the indexes in that database (codes, text, vectors): opened per request in the pool, so
/// an index another process creates or drops is seen at once; PostgreSQL orders their writes.
/// A name held by both is answered from the directory.
final class IndexRegistry: @unchecked Sendable {
    let directory: String?
    let pool: PostgresPool?
    private let lock = NSLock()
    private var opened: [String: ServedIndex] = [:]
    /// The models of PostgreSQL's text indexes, decoded once each, by fingerprint.
    private var models: [String: EncoderModel] = [:]
    /// The models and storage of PostgreSQL's vector indexes, read once each, by name and fingerprint.
    private var vectorModels: [String: (VectorEncoderModel, VectorStorage?)] = [:]

    init(directory: String?, pool: PostgresPool? = nil) {
        self.directory = directory
        self.pool = pool
    }

    /// An index the server answers from.
    enum Resolved {
        case local(ServedIndex)
        case postgres(PostgresCodeIndex)
    }

    /// The index `name`, from the directory or else from PostgreSQL.
    /// - Throws: `APIError` 404 when neither has it; the library's errors when it cannot be opened.
    func resolve(_ name: String) async throws -> Resolved {
        try Self.checkName(name)
        if holdsLocally(name) { return .local(try index(name)) }
        guard let pool, (try? PostgresCodeIndex.checkName(name)) != nil else { throw APIError.unknownIndex(name) }
        do {
            return .postgres(try await PostgresCodeIndex.open(in: pool, name: name))
        } catch IndexError.noIndex {
            throw APIError.unknownIndex(name)
        }
    }

    /// Every index served, sorted by name: the directory's, then PostgreSQL's that the
    /// directory does not shadow.
    func all() async throws -> [Resolved] {
        let local = names()
        var out: [Resolved] = try local.map { .local(try index($0)) }
        if let pool {
            let shadowed = Set(local)
            out += try await PostgresCodeIndex.all(in: pool).filter { !shadowed.contains($0.name) }.map { .postgres($0) }
        }
        return out
    }

    /// The model a text index in PostgreSQL keeps (decoded on first use, then shared).
    /// - Throws: `APIError` 400 for an index of codes; `IndexError.damagedModel`.
    func model(of index: PostgresCodeIndex) async throws -> EncoderModel {
        if let model = lock.withLock({ models[index.modelFingerprint] }) { return model }
        guard let file = try await index.modelFile() else {
            throw APIError.badRequest("index '\(index.name)' holds codes in PostgreSQL (no model, no terms): search it by \"code\", \"like\" or \"queries\" of codes")
        }
        let model: EncoderModel
        do { model = try ModelFile.decode(file, path: index.path + " (stored model)") } catch let error as ModelFileError {
            throw IndexError.damagedModel(path: index.path, detail: error.reason)
        }
        lock.withLock { models[index.modelFingerprint] = model }
        return model
    }

    /// The vector index in PostgreSQL over `index` (its model and storage read on first use,
    /// then shared).
    /// - Throws: `IndexError.kindMismatch` when it is not a vector index; `.damagedModel`.
    func vectors(of index: PostgresCodeIndex) async throws -> PostgresVectorIndex {
        let key = index.name + "\u{0}" + index.modelFingerprint
        if let (model, storage) = lock.withLock({ vectorModels[key] }) { return PostgresVectorIndex(store: index, model: model, storage: storage) }
        let opened = try await PostgresVectorIndex.over(index)
        lock.withLock { vectorModels[key] = (opened.model, opened.storage) }
        return opened
    }

    /// Creates the vector index `name` in PostgreSQL with `model`, keeping vectors as `storage`.
    /// - Throws: as `createInPostgres(_:bits:model:)`.
    func createVectorsInPostgres(_ name: String, model: VectorEncoderModel, storage: VectorStorage?) async throws -> PostgresCodeIndex {
        try Self.checkName(name)
        guard let pool else { throw APIError.badRequest("this server has no PostgreSQL database: start it with --postgres URL, or leave out \"store\"") }
        if holdsLocally(name) { throw APIError.alreadyExists(name) }
        do {
            return try await PostgresCodeIndex.createVectors(in: pool, name: name, bits: model.bits, modelFingerprint: try ModelFile.fingerprint(model),
                                                             modelFile: try ModelFile.encode(model), vectorStorage: storage?.rawValue)
        } catch IndexError.alreadyExists {
            throw APIError.alreadyExists(name)
        }
    }

    /// Creates the index `name` in PostgreSQL: of codes of width `bits`, or of text documents
    /// with `model` (which sets the width).
    /// - Throws: `APIError` 409 when an index of that name exists in the directory or there;
    ///   400 when the server has no PostgreSQL.
    func createInPostgres(_ name: String, bits: Int, model: EncoderModel? = nil) async throws -> PostgresCodeIndex {
        try Self.checkName(name)
        guard let pool else { throw APIError.badRequest("this server has no PostgreSQL database: start it with --postgres URL, or leave out \"store\"") }
        if holdsLocally(name) { throw APIError.alreadyExists(name) }
        do {
            if let model {
                return try await PostgresCodeIndex.create(in: pool, name: name, bits: model.bits, modelFingerprint: try ModelFile.fingerprint(model),
                                                          modelFile: try ModelFile.encode(model))
            }
            return try await PostgresCodeIndex.create(in: pool, name: name, bits: bits)
        } catch IndexError.alreadyExists {
            throw APIError.alreadyExists(name)
        }
    }

    /// Whether the directory holds (or the server has open) an index named `name`.
    private func holdsLocally(_ name: String) -> Bool {
        directory != nil && (lock.withLock { opened[name] != nil } || FileManager.default.fileExists(atPath: path(name) + "/data.mdb"))
    }

    /// Index names: 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'.
    static func checkName(_ name: String) throws {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard (1...64).contains(name.count), !name.hasPrefix("."), name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw APIError.badRequest("an index name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' (got '\(name.prefix(80))')")
        }
    }

    func path(_ name: String) -> String { (directory ?? "") + "/" + name }

    /// The names of the indexes on disk, sorted.
    func names() -> [String] {
        guard let directory else { return [] }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { (try? Self.checkName($0)) != nil && FileManager.default.fileExists(atPath: path($0) + "/data.mdb") }.sorted()
    }

    /// The index `name`, opened on first use.
    /// - Throws: `APIError` 404 when there is none; the library's errors when it cannot be opened.
    func index(_ name: String) throws -> ServedIndex {
        try Self.checkName(name)
        return try lock.withLock {
            if let served = opened[name] { return served }
            guard directory != nil, FileManager.default.fileExists(atPath: path(name) + "/data.mdb") else { throw APIError.unknownIndex(name) }
            let served = ServedIndex(name: name, index: try AnyIndex.open(at: path(name)))
            opened[name] = served
            return served
        }
    }

    /// Creates the index `name` with `make` (which creates it at the path it is given).
    /// - Throws: `APIError` 409 when it exists.
    func create(_ name: String, _ make: (String) throws -> AnyIndex) throws -> ServedIndex {
        try Self.checkName(name)
        guard directory != nil else {
            throw APIError.badRequest("this server has no --data directory; only indexes of codes in PostgreSQL can be created here: send {\"kind\": \"codes\", \"bits\": N, \"store\": \"postgres\"}")
        }
        return try lock.withLock {
            guard opened[name] == nil, !FileManager.default.fileExists(atPath: path(name) + "/data.mdb") else {
                throw APIError.alreadyExists(name)
            }
            let served = ServedIndex(name: name, index: try make(path(name)))
            opened[name] = served
            return served
        }
    }

    /// Deletes the index `name` and its files. Requests that hold it finish on the files they
    /// have open (unlinked files stay readable until closed).
    func delete(_ name: String) async throws {
        let served: ServedIndex
        switch try await resolve(name) {
        case .local(let local): served = local
        case .postgres(let index): return try await index.drop()
        }
        try await served.writer.perform {
            try self.lock.withLock {
                self.opened[name] = nil
                try FileManager.default.removeItem(atPath: self.path(name))
            }
        }
    }
}

/// One open index and its writer.
final class ServedIndex: @unchecked Sendable {
    let name: String
    let index: AnyIndex
    let writer = IndexWriter()
    private let lock = NSLock()
    private var questionsCache: [Int: BitExplanation] = [:]

    init(name: String, index: AnyIndex) {
        self.name = name
        self.index = index
    }

    /// What `bits` of a document index's model ask (their top terms), each bit computed on
    /// first use and kept.
    func questions(_ model: EncoderModel, bits: some Sequence<Int>) -> [Int: BitExplanation] {
        lock.withLock {
            let missing = Set(bits).filter { questionsCache[$0] == nil }.sorted()
            if !missing.isEmpty {
                for e in BitExplanation.explain(model, bits: missing, top: 3) { questionsCache[e.bit] = e }
            }
            return questionsCache
        }
    }
}

/// Writes to one index, one at a time and in arrival order: each request's batch is one LMDB
/// transaction, answered after it commits. A write never blocks the server's threads while
/// another waits: waiting requests are suspended, not parked on LMDB's write lock.
actor IndexWriter {
    func perform<T: Sendable>(_ body: @Sendable () throws -> T) throws -> T {
        try body()
    }
}
