import BinaryCodes
import CodeStore
import Encoder
import TwentyQ

/// A vector index kept in PostgreSQL: what `VectorIndex` is over LMDB. Vectors become codes
/// through the index's vector model; with a storage format the vectors are kept too (`vector
/// bytea`, the same bytes an LMDB vector index keeps) and a search rescores its candidates by
/// exact similarity: the `k x oversample x shortlist` Hamming-nearest codes (exact in SQL, ties by
/// id, or through the HNSW graph with `efSearch`), the `k x oversample` best of them by the
/// asymmetric score, then the best `k` by similarity. The index keeps its model and storage
/// format in the database, so it is opened with its location and name alone.
public final class PostgresVectorIndex: Sendable {
    /// The table and its SQL operations.
    public let store: PostgresCodeIndex
    /// The index's vector model.
    public let model: VectorEncoderModel
    /// How the vectors are kept (nil: codes only, no rescoring).
    public let storage: VectorStorage?

    /// Over an open vector index, its decoded model and its storage (a server that opens indexes
    /// per request and keeps their models); the caller has checked that they belong together.
    package init(store: PostgresCodeIndex, model: VectorEncoderModel, storage: VectorStorage?) {
        self.store = store
        self.model = model
        self.storage = storage
    }

    /// Opens the vector index `name` at `location`, or creates it with `model` and `storage`
    /// when it is missing (a new index needs a model).
    /// - Throws: `IndexError.noIndex`, `.modelRequired`, `.modelMismatch`, `.kindMismatch` for an
    ///   index of codes or documents, `.invalidSetting` for a storage other than the index's.
    public static func open(at location: PostgresLocation, name: String, model: VectorEncoderModel? = nil,
                            storage: VectorStorage? = nil) async throws -> PostgresVectorIndex {
        try await open(path: "\(location)#\(name)", model: model, storage: storage,
                       opening: { try await PostgresCodeIndex.open(at: location, name: name, modelFingerprint: $0) },
                       creating: { try await PostgresCodeIndex.createVectors(at: location, name: name, bits: $0.bits, modelFingerprint: $1, modelFile: $2,
                                                                             vectorStorage: storage?.rawValue) })
    }

    /// As `open(at:name:model:storage:)`, with the calls taking `pool`'s connections.
    public static func open(in pool: PostgresPool, name: String, model: VectorEncoderModel? = nil,
                            storage: VectorStorage? = nil) async throws -> PostgresVectorIndex {
        try await open(path: "\(pool.location)#\(name)", model: model, storage: storage,
                       opening: { try await PostgresCodeIndex.open(in: pool, name: name, modelFingerprint: $0) },
                       creating: { try await PostgresCodeIndex.createVectors(in: pool, name: name, bits: $0.bits, modelFingerprint: $1, modelFile: $2,
                                                                             vectorStorage: storage?.rawValue) })
    }

    private static func open(path: String, model: VectorEncoderModel?, storage: VectorStorage?,
                             opening: (String?) async throws -> PostgresCodeIndex,
                             creating: (VectorEncoderModel, String, [UInt8]) async throws -> PostgresCodeIndex) async throws -> PostgresVectorIndex {
        let fingerprint = try model.map { try ModelFile.fingerprint($0) }
        let store: PostgresCodeIndex
        do {
            store = try await opening(fingerprint)
        } catch IndexError.noIndex {
            guard let model else { throw IndexError.modelRequired(path: path, kind: .vectors) }
            let created = try await creating(model, fingerprint!, try ModelFile.encode(model))
            return PostgresVectorIndex(store: created, model: model, storage: storage)
        }
        do {
            return try await over(store, storage: storage)
        } catch {
            await store.close()
            throw error
        }
    }

    /// The vector index over an open store: its model and storage read from the database.
    /// - Throws: `.kindMismatch` when it is not a vector index; `.invalidSetting` when `storage`
    ///   is given and differs; `.damagedModel`, `.corrupt`.
    package static func over(_ store: PostgresCodeIndex, storage: VectorStorage? = nil) async throws -> PostgresVectorIndex {
        guard store.keepsVectors, let file = try await store.modelFile() else {
            throw IndexError.kindMismatch(path: store.path, holds: store.keepsTerms ? .documents : .codes, wanted: .vectors)
        }
        let stored = try await store.vectorStorage().map { name -> VectorStorage in
            guard let known = VectorStorage(rawValue: name) else {
                throw IndexError.corrupt(path: store.path, detail: "its vector storage '\(name)' is unknown to this version")
            }
            return known
        }
        if let storage, storage != stored {
            throw IndexError.invalidSetting("the index at \(store.path) stores vectors as \(stored?.rawValue ?? "nothing (codes only)"), not \(storage.rawValue); use a new index to change it")
        }
        let decoded: AnyModel
        do { decoded = try ModelFile.decodeAny(file, path: store.path + " (stored model)") } catch let error as ModelFileError {
            throw IndexError.damagedModel(path: store.path, detail: error.reason)
        }
        guard case .vectors(let kept) = decoded else {
            throw IndexError.corrupt(path: store.path, detail: "a vector index whose stored model is a text model")
        }
        return PostgresVectorIndex(store: store, model: kept, storage: stored)
    }

    /// Where it is, for messages.
    public var path: String { store.path }
    /// The vectors' dimensions.
    public var dimensions: Int { model.dimensions }

    /// Items in the index.
    public func count() async throws -> Int { try await store.count() }

    /// Adds or replaces vectors in one transaction (all or none), each with the fields its hits
    /// will carry.
    /// - Throws: `VectorFileError` for a vector of other dimensions or a value that is not
    ///   finite, `IndexError.duplicateID`, `.invalidID`; nothing is written then.
    @discardableResult
    public func add(ids: [String], vectors: [[Float]], fields: [[String: String]]? = nil) async throws -> AddSummary {
        precondition(ids.count == vectors.count && (fields == nil || fields!.count == ids.count))
        for (i, v) in vectors.enumerated() { try model.checkVector(v, label: "input", row: i) }
        if vectors.isEmpty { return AddSummary() }
        let codes = model.encode(VectorSet(dimensions: dimensions, values: vectors.flatMap { $0 }), threads: 1)
        let entries = ids.indices.map { i in
            IndexEntry(id: ids[i], code: codes[i], metadata: (fields?[i] ?? [:]).isEmpty ? [] : Array(JSONText.object(fields![i]).utf8))
        }
        return try await store.addVectors(entries, vectors: vectors.map { storage?.encode($0) ?? [] })
    }

    /// Removes vectors by id (all, or none when one is unknown).
    @discardableResult
    public func remove(ids: [String]) async throws -> Int { try await store.remove(ids: ids) }

    /// The stored vector of `id` (as stored: int8 and float16 are approximations), or nil.
    public func vector(for id: String) async throws -> [Float]? {
        guard let storage, let bytes = try await store.storedVectors([id])[id] else { return nil }
        return bytes.withUnsafeBytes { storage.decode($0, dimensions: dimensions) }
    }

    /// The k nearest stored vectors to `vector`, as `VectorIndex.search` finds them (ties among
    /// codes by id rather than by slot).
    /// - Throws: `VectorFileError` for a bad query, `IndexError.noStoredVectors` when `rescore`
    ///   is asked of an index that keeps codes only, `.invalidSetting` for bad settings.
    public func search(_ vector: [Float], k: Int = 10, rescore: Bool? = nil, oversample: Int = 4,
                       shortlist: Int = VectorIndex.defaultShortlist, efSearch: Int? = nil) async throws -> [SearchHit] {
        try model.checkVector(vector, label: "query")
        guard k >= 1 else { throw CodeError.invalidK(k) }
        guard oversample >= 1 else { throw IndexError.invalidSetting("oversample must be 1 or more (got \(oversample))") }
        guard shortlist >= 1 else { throw IndexError.invalidSetting("the shortlist must be 1 or more (got \(shortlist))") }
        let rescoring = rescore ?? (storage != nil)
        let (codes, logits) = model.codesAndLogits(VectorSet(dimensions: dimensions, values: vector))
        guard rescoring else {
            return try await store.codeCandidates(codes[0], depth: k, efSearch: efSearch).map(\.hit)
        }
        guard let storage else { throw IndexError.noStoredVectors(path: path) }
        let rescored = k.saturatingProduct(oversample)
        var candidates = try await store.codeCandidates(codes[0], depth: rescored.saturatingProduct(shortlist), efSearch: efSearch)
        if shortlist > 1 {
            // The asymmetric score's best, ties in the Hamming order.
            let scorer = AsymmetricScorer(logits: logits[0])
            let scores: [Float] = candidates.map { c in c.code.words.withUnsafeBufferPointer { scorer.score($0.baseAddress!) } }
            let order = candidates.indices.sorted { a, b in scores[a] > scores[b] || (scores[a] == scores[b] && a < b) }
            candidates = order.prefix(rescored).map { candidates[$0] }
        }
        let stored = try await store.storedVectors(candidates.map(\.hit.id))
        let query = model.config.metric.prepare(vector)
        let scored = try query.withUnsafeBufferPointer { q in
            try candidates.map { candidate -> (SearchHit, Float) in
                guard let bytes = stored[candidate.hit.id] else {
                    throw IndexError.corrupt(path: path, detail: "the row of '\(candidate.hit.id)' lacks its stored vector")
                }
                let score = bytes.withUnsafeBytes { storage.similarity(q, $0, metric: model.config.metric) }
                var hit = candidate.hit
                hit.score = Double(score)
                return (hit, score)
            }
        }
        return scored.enumerated().sorted { a, b in a.element.1 > b.element.1 || (a.element.1 == b.element.1 && a.offset < b.offset) }
            .prefix(k).map(\.element.0)
    }

    /// Closes the index's own connection.
    public func close() async { await store.close() }
}
