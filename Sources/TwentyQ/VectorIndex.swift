import BinaryCodes
import CodeStore
import Encoder
import Foundation

/// The name of a vector search's hit before every index returned `SearchHit` (its metadata
/// is now `fields`, its score a `Double`).
@available(*, deprecated, renamed: "SearchHit")
public typealias VectorHit = SearchHit

/// Settings of a vector index, kept in the index as JSON (blob `vector_index`).
public struct VectorIndexSettings: Codable, Equatable, Sendable {
    /// How vectors are stored beside their codes for rescoring; nil: codes only.
    public var storage: VectorStorage?

    /// Settings that store vectors as `storage` (nil: codes only).
    public init(storage: VectorStorage? = nil) {
        self.storage = storage
    }
}

/// A searchable index of float vectors: their codes from a vector encoder, in a `CodeIndex`,
/// optionally with the vectors themselves (int8, float16 or float32) for rescoring.
///
/// Like `DocumentIndex`, the index keeps a copy of its encoder and refuses another one. Each
/// record's metadata holds `UInt32 LE n`, `n` bytes of the stored vector (n = 0 without
/// storage), then the caller's metadata bytes; the vector therefore moves with its code and id
/// in the same transactions.
///
/// Rescoring: the `k x oversample x shortlist` Hamming-nearest codes are re-ranked by the
/// asymmetric score of the float query's logits against their bits (`AsymmetricScorer`), and the
/// best `k x oversample` of those by exact similarity between the float query and their stored
/// vectors (ties: the order before). `shortlist` 1 skips the asymmetric step: the Hamming-nearest
/// go straight to the exact similarity, as sentence-transformers and Qdrant rescore binary codes.
/// On 20 Newsgroups MiniLM vectors with 256-bit codes and int8 vectors, the default shortlist of
/// 10 lifts recall@10 at oversample 4 from 0.85 to 0.94 with the trained ternary encoder
/// (docs/EVALUATION.md).
///
/// Thread safety: any number of threads may search while one adds or removes.
public final class VectorIndex: @unchecked Sendable {
    package let store: CodeIndex
    /// The index's vector model (the copy it keeps).
    public let model: VectorEncoderModel
    /// How the index stores vectors, fixed when it is created.
    public let settings: VectorIndexSettings
    package static let settingsKey = "vector_index"

    private init(store: CodeIndex, model: VectorEncoderModel, settings: VectorIndexSettings) {
        self.store = store
        self.model = model
        self.settings = settings
    }

    /// The index's directory.
    public var path: String { store.path }
    /// Items in the index (committed state), as `CodeIndex.count`.
    public var count: Int { get throws { try store.count } }
    /// Sizes, bits, model fingerprint and table statistics, as `CodeIndex.info()`.
    public func info() throws -> IndexInfo { try store.info() }
    /// The dimensions of the vectors it takes, its model's.
    public var dimensions: Int { model.dimensions }

    /// Creates a new vector index at `path` with `model`, keeping the vectors as `storage` for
    /// rescoring (nil: codes only), as `CodeIndex.create(at:bits:)` does for codes.
    /// - Throws: `IndexError.alreadyExists` when an index is there (open it with
    ///   `open(at:model:storage:readOnly:)`), and the errors of `open`.
    public static func create(at path: String, model: VectorEncoderModel, storage: VectorStorage? = nil) throws -> VectorIndex {
        guard !FileManager.default.fileExists(atPath: path + "/data.mdb") else { throw IndexError.alreadyExists(path: path) }
        return try open(at: path, model: model, storage: storage)
    }

    /// Opens the vector index at `path`, or creates it with `model` and `storage` when there is
    /// none.
    /// - Throws: `IndexError.kindMismatch` for an index of text or of codes, `.modelMismatch` when `model`
    ///   differs from the index's, `.modelRequired` when creating without a model, and
    ///   `.invalidSetting` when `storage` is given for an existing index with other storage.
    public static func open(at path: String, model: VectorEncoderModel? = nil, storage: VectorStorage? = nil,
                            readOnly: Bool = false) throws -> VectorIndex {
        if FileManager.default.fileExists(atPath: path + "/data.mdb") {
            return try open(existing: try CodeIndex.open(at: path, readOnly: readOnly), model: model, storage: storage)
        }
        guard !readOnly else { throw IndexError.noIndex(path: path) }
        guard let model else {
            throw IndexError.modelRequired(path: path, kind: .vectors)
        }
        let settings = VectorIndexSettings(storage: storage)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            let store = try CodeIndex.create(at: path, bits: model.bits, modelFingerprint: try ModelFile.fingerprint(model),
                                             blobs: [DocumentIndex.modelKey: try ModelFile.encode(model),
                                                     settingsKey: Array(try encoder.encode(settings))])
            return VectorIndex(store: store, model: model, settings: settings)
        } catch IndexError.alreadyExists {
            // Another process created it first: open theirs (with the same checks).
            return try open(at: path, model: model, storage: storage, readOnly: readOnly)
        }
    }

    /// Adds or replaces the rows of `set` in one transaction: ids from `ids`, else the set's
    /// own ids, else row numbers offset by `firstRow`; metadata from the set (JSONL fields).
    /// - Throws: `VectorFileError.wrongDimensions` / `.notFinite` (nothing written),
    ///   `IndexError.duplicateID`, `.invalidID`, storage errors.
    @discardableResult
    public func add(_ set: VectorSet, ids: [String]? = nil, firstRow: Int = 0, threads: Int = SearchOptions.onlineCores) throws -> AddSummary {
        guard set.dimensions == dimensions else {
            throw VectorFileError.wrongDimensions(path: "input", row: firstRow, expected: dimensions, found: set.dimensions)
        }
        precondition(ids == nil || ids!.count == set.count)
        if let bad = set.values.firstIndex(where: { !$0.isFinite }) {
            throw VectorFileError.notFinite(path: "input", row: firstRow + bad / dimensions, column: bad % dimensions)
        }
        let codes = model.encode(set, threads: threads)
        var entries: [IndexEntry] = []
        entries.reserveCapacity(set.count)
        set.values.withUnsafeBufferPointer { values in
            for i in 0..<set.count {
                let row = UnsafeBufferPointer(rebasing: values[i * dimensions ..< (i + 1) * dimensions])
                let vectorBytes = settings.storage?.encode(row) ?? []
                var record: [UInt8] = []
                withUnsafeBytes(of: UInt32(vectorBytes.count).littleEndian) { record += $0 }
                record += vectorBytes
                record += set.metadata?[i] ?? []
                entries.append(IndexEntry(id: ids?[i] ?? set.ids?[i] ?? String(firstRow + i), code: codes[i], metadata: record))
            }
        }
        return try store.add(entries)
    }

    /// Adds or replaces vectors given as arrays (see `add(_:ids:)`), each with the fields that
    /// its hits will carry (`SearchHit.fields`).
    @discardableResult
    public func add(ids: [String], vectors: [[Float]], fields: [[String: String]]? = nil) throws -> AddSummary {
        precondition(fields == nil || fields!.count == ids.count)
        return try add(ids: ids, vectors: vectors, metadata: fields.map { $0.map { $0.isEmpty ? [] : Array(JSONText.object($0).utf8) } })
    }

    /// Adds or replaces vectors given as arrays, with metadata as bytes (a JSON object gives
    /// its hits' fields; other bytes are kept and exported but give no fields).
    @discardableResult
    public func add(ids: [String], vectors: [[Float]], metadata: [[UInt8]]?) throws -> AddSummary {
        precondition(ids.count == vectors.count && (metadata == nil || metadata!.count == ids.count))
        for (i, v) in vectors.enumerated() { try model.checkVector(v, label: "input", row: i) }
        if vectors.isEmpty { return AddSummary() }
        return try add(VectorSet(dimensions: dimensions, values: vectors.flatMap { $0 }, ids: ids, metadata: metadata))
    }

    /// Removes vectors by id (all or none).
    @discardableResult
    public func remove(ids: [String]) throws -> Int { try store.remove(ids: ids) }

    /// How searches run (threads, kernel, multi-index tables, a `SearchReport` to fill).
    /// Results never depend on it. Set it before sharing the index between threads.
    public var searchOptions = SearchOptions()

    /// The k nearest stored vectors to `vector`.
    /// - Parameters:
    ///   - vector: the query, of the index's dimensions, every value finite.
    ///   - k: how many hits, 1 or more.
    ///   - oversample: with rescoring, candidates rescored per hit (`k x oversample` in all).
    ///   - rescore: re-rank the `k * oversample` best candidates by exact similarity (needs
    ///     stored vectors); default: when the index stores vectors.
    ///   - shortlist: with rescoring, how many Hamming-nearest codes per rescored candidate the
    ///     asymmetric score chooses from (1: none, the Hamming-nearest are rescored).
    public func search(_ vector: [Float], k: Int = 10, rescore: Bool? = nil, oversample: Int = 4,
                       shortlist: Int = VectorIndex.defaultShortlist) throws -> [SearchHit] {
        try model.checkVector(vector, label: "query")
        return try search(VectorSet(dimensions: dimensions, values: vector), k: k, rescore: rescore, oversample: oversample,
                          shortlist: shortlist)[0]
    }

    /// Hamming-nearest codes per rescored candidate that the asymmetric score chooses from.
    public static let defaultShortlist = 10

    /// The k nearest stored vectors to each row of `queries`, in one batch pass over the codes.
    public func search(_ queries: VectorSet, k: Int = 10, rescore: Bool? = nil, oversample: Int = 4,
                       shortlist: Int = VectorIndex.defaultShortlist, threads: Int = SearchOptions.onlineCores) throws -> [[SearchHit]] {
        guard k >= 1 else { throw CodeError.invalidK(k) }
        guard oversample >= 1 else { throw IndexError.invalidSetting("oversample must be 1 or more (got \(oversample))") }
        guard shortlist >= 1 else { throw IndexError.invalidSetting("the shortlist must be 1 or more (got \(shortlist))") }
        guard queries.dimensions == dimensions else {
            throw VectorFileError.wrongDimensions(path: "query", row: 0, expected: dimensions, found: queries.dimensions)
        }
        if let bad = queries.values.firstIndex(where: { !$0.isFinite }) {
            throw VectorFileError.notFinite(path: "query", row: bad / dimensions, column: bad % dimensions)
        }
        let rescoring = rescore ?? (settings.storage != nil)
        // The asymmetric shortlist needs each query's logits; its codes come from the same pass.
        let withLogits = rescoring && settings.storage != nil && shortlist > 1
        let (codes, queryLogits) = withLogits ? model.codesAndLogits(queries) : (model.encode(queries, threads: threads), [])
        guard rescoring else {
            return try store.nearestWithMetadata(to: codes, k: k, options: searchOptions).map { list in list.map { Self.hit($0.hit, $0.metadata, score: nil) } }
        }
        guard let storage = settings.storage else {
            throw IndexError.noStoredVectors(path: path)
        }
        let rescored = k.saturatingProduct(oversample)
        var refine: ((Int, [Neighbor], SlotCodes) -> [Neighbor])?
        if shortlist > 1 {
            let scorers = queryLogits.map { AsymmetricScorer(logits: $0) }
            refine = { q, list, codes in scorers[q].shortlist(list, keep: rescored, code: codes.pointer) }
        }
        let candidates = try store.nearestWithMetadata(to: codes, k: rescored.saturatingProduct(shortlist), options: searchOptions, refine: refine)
        return try (0..<queries.count).map { q in
            let query = model.config.metric.prepare(queries.row(q))
            let scored = try query.withUnsafeBufferPointer { qp in
                try candidates[q].map { candidate -> (SearchHit, Float) in
                    let meta = candidate.metadata
                    guard let range = storedVectorRange(meta) else {
                        throw IndexError.corrupt(path: path, detail: "the record of '\(candidate.hit.id)' lacks its stored vector")
                    }
                    let score = meta.withUnsafeBytes { storage.similarity(qp, UnsafeRawBufferPointer(rebasing: $0[range]), metric: model.config.metric) }
                    return (Self.hit(candidate.hit, meta, score: score), score)
                }
            }
            return scored.enumerated().sorted { a, b in
                a.element.1 > b.element.1 || (a.element.1 == b.element.1 && a.offset < b.offset)
            }.prefix(k).map(\.element.0)
        }
    }

    /// The stored vector of `id` (as stored: int8 and float16 are approximations), or nil when
    /// the id is unknown or the index stores no vectors.
    public func vector(for id: String) throws -> [Float]? {
        try store.metadata(for: id).flatMap(storedVector(inRecord:))
    }

    /// The vector index over an open store: its settings and model read from the store.
    /// `ExportCommand` and `open(at:)` share it, so one process never opens an index twice.
    /// - Throws: as `open(at:model:storage:readOnly:)` for an existing index.
    package static func open(existing store: CodeIndex, model: VectorEncoderModel? = nil, storage: VectorStorage? = nil) throws -> VectorIndex {
        let path = store.path
        let holds = try AnyIndex.kind(of: store)
        guard holds == .vectors, let settingsBytes = try store.blob(settingsKey) else {
            throw IndexError.kindMismatch(path: path, holds: holds, wanted: .vectors)
        }
        guard let settings = try? JSONDecoder().decode(VectorIndexSettings.self, from: Data(settingsBytes)),
              let modelBytes = try store.blob(DocumentIndex.modelKey) else {
            throw IndexError.corrupt(path: path, detail: "its vector settings or model are missing or unreadable")
        }
        let decoded: AnyModel
        do { decoded = try ModelFile.decodeAny(modelBytes, path: path + " (stored model)") } catch let error as ModelFileError {
            throw IndexError.damagedModel(path: path, detail: error.reason)
        }
        guard case .vectors(let stored) = decoded else {
            throw IndexError.corrupt(path: path, detail: "a vector index whose stored model is a text model")
        }
        if let model {
            let given = try ModelFile.fingerprint(model)
            guard given == store.modelFingerprint else {
                throw IndexError.modelMismatch(path: path, index: store.modelFingerprint, given: given)
            }
        }
        if let storage, storage != settings.storage {
            throw IndexError.invalidSetting("the index at \(path) stores vectors as \(settings.storage?.rawValue ?? "nothing (codes only)"), not \(storage.rawValue); use a new index to change it")
        }
        return VectorIndex(store: store, model: stored, settings: settings)
    }

    /// Every stored item in slot order, from one snapshot, until `body` returns false: id,
    /// code, the stored vector's bytes as stored (empty when the index keeps codes only) and the
    /// caller's metadata: what `twentyq copy` moves into another store, byte for byte.
    package func forEachStoredVector(_ body: (_ entry: IndexEntry, _ vectorBytes: [UInt8]) throws -> Bool) throws {
        try store.forEachRecord { id, record, code in
            let bytes = storedVectorRange(record).map { Array(record[$0]) } ?? []
            return try body(IndexEntry(id: id, code: code, metadata: Self.userMetadata(record)), bytes)
        }
    }

    /// The stored code, vector bytes (empty for none) and caller's metadata of `id`, or nil.
    package func storedItem(for id: String) throws -> (code: BinaryCode, vectorBytes: [UInt8], metadata: [UInt8])? {
        guard let code = try store.code(for: id), let record = try store.metadata(for: id) else { return nil }
        return (code, storedVectorRange(record).map { Array(record[$0]) } ?? [], Self.userMetadata(record))
    }

    /// Adds or replaces items whose vectors come as stored bytes (in this index's storage, as
    /// `forEachStoredVector` gives them; empty for codes only), in one transaction.
    /// - Throws: `IndexError.invalidSetting` for bytes of another size; the errors of `add`.
    @discardableResult
    package func add(stored entries: [(entry: IndexEntry, vectorBytes: [UInt8])]) throws -> AddSummary {
        let size = settings.storage?.byteCount(dimensions: dimensions) ?? 0
        return try store.add(try entries.map { item in
            guard item.vectorBytes.count == size else {
                throw IndexError.invalidSetting("the stored vector of '\(item.entry.id)' has \(item.vectorBytes.count) bytes; this index keeps \(size)")
            }
            var record: [UInt8] = []
            withUnsafeBytes(of: UInt32(size).littleEndian) { record += $0 }
            return IndexEntry(id: item.entry.id, code: item.entry.code, metadata: record + item.vectorBytes + item.entry.metadata)
        })
    }

    /// Every stored item in slot order, from one snapshot, until `body` returns false: id,
    /// code, the stored vector (nil when the index keeps codes only) and the caller's metadata.
    /// Export goes through here.
    public func forEachVector(_ body: (_ id: String, _ code: BinaryCode, _ vector: [Float]?, _ metadata: [UInt8]) throws -> Bool) throws {
        try store.forEachRecord { id, record, code in
            try body(id, code, storedVector(inRecord: record), Self.userMetadata(record))
        }
    }

    /// The stored vector in a record's metadata (as `CodeIndex.forEachRecord` gives it), or nil.
    package func storedVector(inRecord record: [UInt8]) -> [Float]? {
        guard let storage = settings.storage, let range = storedVectorRange(record) else { return nil }
        return record.withUnsafeBytes { storage.decode(UnsafeRawBufferPointer(rebasing: $0[range]), dimensions: dimensions) }
    }

    /// Where the stored vector lies in a record: after its UInt32 length, which must be this
    /// index's vector size. Nil when the index stores no vectors or the record is malformed.
    func storedVectorRange(_ record: [UInt8]) -> Range<Int>? {
        guard let storage = settings.storage else { return nil }
        let n = storage.byteCount(dimensions: dimensions)
        guard record.count >= 4 + n, Self.prefixLength(record) == n else { return nil }
        return 4 ..< 4 + n
    }

    /// The UInt32 LE length that opens a record (0 for a record too short to have one).
    static func prefixLength(_ record: [UInt8]) -> Int {
        guard record.count >= 4 else { return 0 }
        return Int(UInt32(record[0]) | UInt32(record[1]) << 8 | UInt32(record[2]) << 16 | UInt32(record[3]) << 24)
    }

    /// The caller's metadata inside a record (after the stored vector).
    package static func userMetadata(_ record: [UInt8]) -> [UInt8] {
        guard record.count >= 4 else { return [] }
        let n = prefixLength(record)
        return 4 + n <= record.count ? Array(record[(4 + n)...]) : []
    }

    static func hit(_ hit: SearchHit, _ record: [UInt8], score: Float?) -> SearchHit {
        SearchHit(id: hit.id, distance: hit.distance, score: score.map(Double.init), fields: SearchHit.fields(json: userMetadata(record)))
    }
}
