import BinaryCodes
import CodeStore
import Encoder
import Foundation

/// A document to index: an external id, its text, and any extra fields to keep.
public struct Document: Sendable {
    /// The document's id: unique in the index, 1 to 511 bytes of UTF-8 (a path, a URL, a key).
    public var id: String
    /// The text to encode and to take term statistics from; only its snippet is stored.
    public var text: String
    /// Extra fields, kept (as a JSON object of strings) with the document and returned with
    /// each of its hits. The names "hash" and "snippet" are the index's own.
    public var fields: [String: String]

    /// A document with its id, text and extra fields.
    public init(id: String, text: String, fields: [String: String] = [:]) {
        self.id = id
        self.text = text
        self.fields = fields
    }
}

/// The name `DocumentIndex.add` used for its summary before every index returned `AddSummary`.
@available(*, deprecated, renamed: "AddSummary")
public typealias IndexingReport = AddSummary

/// The results of one text query, and how they were found.
public struct TextSearchResult: Sendable {
    /// The best hits, best first.
    public var hits: [SearchHit]
    /// No term of the query is known to the model, so its code says nothing: the hits are the
    /// documents that share a term with it, by BM25 (none when no document does).
    public var lexicalOnly: Bool
    /// The lexical stage ran (false for `.none` and for indexes made before term statistics).
    public var usedTerms: Bool

    package init(hits: [SearchHit], lexicalOnly: Bool, usedTerms: Bool) {
        self.hits = hits
        self.lexicalOnly = lexicalOnly
        self.usedTerms = usedTerms
    }
}

/// A searchable index of text documents: codes from a text model, in a `CodeIndex`.
///
/// The index keeps a copy of its model, so it is opened with its directory alone; opening it
/// with a different model is refused. Documents are keyed by id; adding an id again replaces it
/// when its text changed and skips it when not (a content hash is stored with each document).
///
/// Thread safety: any number of threads may search while one adds or removes; writes are
/// serialised by LMDB.
public final class DocumentIndex: @unchecked Sendable {
    package let store: CodeIndex
    /// The index's model (the copy it keeps).
    public let model: EncoderModel
    /// The fingerprint of that model (`ModelFile.fingerprint`), as `info()` reports it.
    public let modelFingerprint: String
    /// The name of the blob that holds the index's model file (text and vector indexes).
    public static let modelKey = "model_file"

    private init(store: CodeIndex, model: EncoderModel, fingerprint: String) {
        self.store = store
        self.model = model
        self.modelFingerprint = fingerprint
    }

    /// The index's directory.
    public var path: String { store.path }
    /// Items in the index (committed state), as `CodeIndex.count`.
    public var count: Int { get throws { try store.count } }
    /// Sizes, bits, model fingerprint and table statistics, as `CodeIndex.info()`.
    public func info() throws -> IndexInfo { try store.info() }

    /// The document index over an open store: its model read from the store (`AnyIndex` and
    /// `open(at:)` share it, so one process never opens an index twice).
    /// - Throws: `IndexError.kindMismatch`, `.damagedModel`, `.modelMismatch` (when `model` is given).
    package static func open(existing store: CodeIndex, model: EncoderModel? = nil) throws -> DocumentIndex {
        let path = store.path
        let holds = try AnyIndex.kind(of: store)
        guard holds == .documents, let bytes = try store.blob(modelKey) else {
            throw IndexError.kindMismatch(path: path, holds: holds, wanted: .documents)
        }
        let stored: EncoderModel
        do { stored = try ModelFile.decode(bytes, path: path + " (stored model)") } catch let error as ModelFileError {
            throw IndexError.damagedModel(path: path, detail: error.reason)
        }
        if let model {
            let given = try ModelFile.fingerprint(model)
            guard given == store.modelFingerprint else {
                throw IndexError.modelMismatch(path: path, index: store.modelFingerprint, given: given)
            }
        }
        return DocumentIndex(store: store, model: stored, fingerprint: store.modelFingerprint)
    }

    /// Creates a new index at `path` with `model` (default: the shipped model), as
    /// `CodeIndex.create(at:bits:)` does for codes.
    /// - Throws: `IndexError.alreadyExists` when an index is there (open it with
    ///   `open(at:model:readOnly:)`), and the errors of `open`.
    public static func create(at path: String, model: EncoderModel? = nil) throws -> DocumentIndex {
        guard !FileManager.default.fileExists(atPath: path + "/data.mdb") else { throw IndexError.alreadyExists(path: path) }
        return try open(at: path, model: model)
    }

    /// Opens the index at `path`, creating it with `model` (default: the shipped model) when
    /// there is none.
    /// - Throws: `IndexError.modelMismatch` when `model` is given and differs from the index's;
    ///   the errors of `CodeIndex` and `ModelFile`.
    public static func open(at path: String, model: EncoderModel? = nil, readOnly: Bool = false) throws -> DocumentIndex {
        if FileManager.default.fileExists(atPath: path + "/data.mdb") {
            return try open(existing: try CodeIndex.open(at: path, readOnly: readOnly), model: model)
        }
        guard !readOnly else { throw IndexError.noIndex(path: path) }
        let chosen = try model ?? DefaultModel.load()
        let fingerprint = try ModelFile.fingerprint(chosen)
        do {
            let store = try CodeIndex.create(at: path, bits: chosen.bits, modelFingerprint: fingerprint,
                                             blobs: [modelKey: try ModelFile.encode(chosen)])
            return DocumentIndex(store: store, model: chosen, fingerprint: fingerprint)
        } catch IndexError.alreadyExists {
            // Another process created it first: open theirs (with the same checks).
            return try open(at: path, model: model, readOnly: readOnly)
        }
    }

    /// Adds or replaces `documents` in one transaction, encoding the new and changed ones on all
    /// cores. Unchanged documents are skipped.
    /// - Throws: `IndexError.duplicateID` (nothing written), `.invalidID`, storage errors.
    @discardableResult
    public func add(_ documents: [Document], threads: Int = SearchOptions.onlineCores) throws -> AddSummary {
        try Self.checkDistinctIDs(documents)
        let prepared = try prepare(documents, threads: threads)
        try store.add(prepared.entries)
        return prepared.summary
    }

    /// Adds or replaces `documents` in batches of `batch` documents, one transaction each, in
    /// input order, as `add(_:threads:)` would batch by batch; while a batch is written, the next
    /// one is compared with the index and encoded (the writes, one thread's work, no longer wait
    /// for the encoding, nor the encoding for the writes). `progress` is called on the calling
    /// thread with the number of documents committed so far, after each batch.
    ///
    /// The ids must be distinct across all of `documents` (so no batch depends on what an earlier
    /// one writes). A failed batch stops the run: the batches before it stay committed, none
    /// after it is written (a killed process keeps a prefix of whole batches too). Documents that
    /// come a few at a time (a large file read in pieces) go through `writer(batch:)` instead.
    /// - Throws: `IndexError.duplicateID` or `.invalidSetting` (a batch under 1; nothing
    ///   written), `.invalidID`, storage errors.
    @discardableResult
    public func add(_ documents: [Document], batch: Int, threads: Int = SearchOptions.onlineCores,
                    progress: @escaping (Int) -> Void = { _ in }) throws -> AddSummary {
        let writer = try writer(batch: batch, threads: threads, idsChecked: true, progress: progress)
        try Self.checkDistinctIDs(documents)
        try writer.add(documents)
        return try writer.finish()
    }

    /// Refuses documents that give an id twice (before anything is read or written).
    /// - Throws: `IndexError.duplicateID` naming the first id given twice.
    static func checkDistinctIDs(_ documents: [Document]) throws {
        var seen = Set<String>()
        for d in documents { guard seen.insert(d.id).inserted else { throw IndexError.duplicateID(d.id) } }
    }

    /// What `add` writes for `documents`: the entries of the new and changed ones, and the
    /// count of each kind. Reads the index, writes nothing.
    func prepare(_ documents: [Document], threads: Int) throws -> (entries: [IndexEntry], summary: AddSummary) {
        var report = AddSummary()
        // Content hashes on every thread: one pass over each text's bytes (on one thread
        // beside the encoding it was 3% of indexing 20 Newsgroups).
        var hashes = [String](repeating: "", count: documents.count)
        let workers = max(1, min(threads, documents.count / 64))
        hashes.withUnsafeMutableBufferPointer { out in
            parallelFor(iterations: workers) { w in
                for i in stride(from: w, to: documents.count, by: workers) { out[i] = Self.contentHash(documents[i].text) }
            }
        }
        var changed: [Int] = []
        let stored = try store.metadata(for: documents.map(\.id))
        for (i, existing) in stored.enumerated() {
            if let existing {
                // Unchanged: the same text, and (for folder files) the same file stamp, so a
                // touched file gets its new stamp once and is not read again after that.
                let fields = SearchHit.fields(json: existing)
                if fields["hash"] == hashes[i] && fields[Self.fileStampField] == documents[i].fields[Self.fileStampField] {
                    report.unchanged += 1
                } else { changed.append(i); report.replaced += 1 }
            } else {
                changed.append(i)
                report.added += 1
            }
        }
        let entries = try TextEncoding(model: model).entries(changed.map { documents[$0] }, contentHashes: changed.map { hashes[$0] }, threads: threads)
        return (entries, report)
    }

    /// Removes documents by id (all or none).
    @discardableResult
    public func remove(ids: [String]) throws -> Int { try store.remove(ids: ids) }

    /// How searches run (threads, kernel, multi-index tables, a `SearchReport` to fill).
    /// Results never depend on it. Set it before sharing the index between threads.
    public var searchOptions = SearchOptions()

    /// How text queries are ranked (rescoring, shortlist, BM25 settings). Set it before sharing
    /// the index between threads.
    public var ranking = RankingOptions()

    /// The best `k` documents for `text`, ranked as `ranking` says (by default the codes choose
    /// a shortlist and BM25 over the stored terms is fused with the code score).
    public func search(_ text: String, k: Int = 10) throws -> [SearchHit] {
        try search(texts: [text], k: k)[0].hits
    }

    /// The best `k` documents for each text, in one batch pass over the codes. With
    /// `fields: false` the hits carry ids, distances and scores only (no metadata reads).
    public func search(texts: [String], k: Int = 10, fields: Bool = true, threads: Int = SearchOptions.onlineCores) throws -> [TextSearchResult] {
        try search(texts: texts, k: k, ranking: ranking, fields: fields, threads: threads)
    }

    /// As `search(texts:k:fields:threads:)` ranked by `ranking` instead of the index's own
    /// setting: for a shared index whose callers each choose (a service's requests).
    public func search(texts: [String], k: Int = 10, ranking: RankingOptions, fields: Bool = true,
                       threads: Int = SearchOptions.onlineCores) throws -> [TextSearchResult] {
        let queries = TextEncoding(model: model).rankedQueries(texts, ranking: ranking, threads: threads)
        return try store.rank(queries, k: k, options: ranking, search: searchOptions, fields: fields).map { r in
            TextSearchResult(hits: r.hits, lexicalOnly: r.lexicalOnly, usedTerms: r.usedTerms)
        }
    }

    /// "More like this": the k nearest documents to the stored document `id` (itself included).
    /// - Throws: `IndexError.unknownID`.
    public func search(like id: String, k: Int = 10) throws -> [SearchHit] {
        guard let code = try store.code(for: id) else { throw IndexError.unknownID(id) }
        return try search(codes: [code], k: k)[0]
    }

    /// The k nearest documents to each code.
    public func search(codes: [BinaryCode], k: Int, fields: Bool = true) throws -> [[SearchHit]] {
        let queries = try CodeMatrix(bits: model.bits, words: codes.flatMap(\.words))
        return try store.nearest(to: queries, k: k, fields: fields, options: searchOptions)
    }

    /// Every document within Hamming distance `radius` of `text`'s code.
    public func search(_ text: String, radius: Int) throws -> [SearchHit] {
        try store.within(radius: radius, of: model.encode(text), options: searchOptions)
    }

    /// Content hash of a text: "fnv1a64:" + 16 hex digits.
    public static func contentHash(_ text: String) -> String {
        var text = text
        return "fnv1a64:" + FNV1a.hex(text.withUTF8 { FNV1a.hash($0) })
    }

    /// The first 300 characters of `text` with runs of white space folded to one space and U+0000
    /// dropped, in one pass that stops there. Pure ASCII up to that point is copied byte by byte
    /// (appending scalars one at a time to a string took 4% of indexing 20 Newsgroups); the
    /// first other byte hands the text to the scalar loop, which gives the same result.
    package static func snippet(_ text: String) -> String {
        var text = text
        let ascii = text.withUTF8 { bytes -> String? in
            var out = [UInt8]()
            out.reserveCapacity(min(bytes.count, 300))
            var pendingSpace = false
            for b in bytes where b != 0 {
                guard b < 0x80 else { return nil }
                if b == 0x20 || (0x09...0x0D).contains(b) {
                    pendingSpace = !out.isEmpty
                    continue
                }
                if out.count + (pendingSpace ? 2 : 1) > 300 { break }
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append(b)
            }
            return String(decoding: out, as: UTF8.self)
        }
        return ascii ?? scalarSnippet(text)
    }

    /// `snippet` scalar by scalar (any text; the reference its ASCII path is tested against).
    package static func scalarSnippet(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var count = 0
        var pendingSpace = false
        for scalar in text.unicodeScalars where scalar.value != 0 {
            // Unicode's White_Space, with the ASCII ones (tab to carriage return, space) decided
            // without the property table (which took 6% of indexing 20 Newsgroups).
            let space = scalar.value < 0x80 ? scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value) : scalar.properties.isWhitespace
            if space {
                pendingSpace = count > 0
                continue
            }
            // Never a space as the last character: it stands before the next word or not at all.
            if count + (pendingSpace ? 2 : 1) > 300 { break }
            if pendingSpace { out.append(" "); count += 1; pendingSpace = false }
            out.append(scalar)
            count += 1
        }
        return String(out)
    }

    static func encodeFields(_ fields: [String: String]) throws -> [UInt8] {
        Array(JSONText.object(fields).utf8)
    }

    /// The field in which `twentyq index` keeps a folder file's size and modification time
    /// ("SIZE:SECONDS.NANOSECONDS"), to skip reading unchanged files on the next run.
    public static let fileStampField = "twentyq.stamp"

}
