import ArgumentParser
import Foundation
import Ingest
import Training
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder
import PostgresStore

/// The index directory used when --db is not given.
let defaultIndexDirectory = "twentyq-index"

struct DocumentIndexOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Index directory (default: ./\(defaultIndexDirectory)).", valueName: "dir"))
    var db: String = defaultIndexDirectory

    func validate() throws { try refusePostgresURL(db) }
}

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index files, folders or JSONL documents for search.",
        discussion: """
        Folders are walked recursively (hidden entries skipped); ids are paths relative to the \
        folder. .jsonl files (and .jsonl.gz) hold one {"id", "text", ...} per line; other fields are kept. "-" reads \
        JSONL from standard input. .html/.htm and manual pages (ls.1, git.1.gz) are reduced \
        to text; PDF files are read by pdftotext (poppler-utils); .docx, .pptx, .xlsx, .odt, \
        .odp, .ods and .epub by their XML; RTF without its markup; legacy .doc and .xls by catdoc \
        and xls2csv (catdoc); any other .gz file is one \
        document, decompressed (README.gz, page.html.gz). Text that is not UTF-8 is read as \
        UTF-16 (with its byte-order mark) or Windows-1252 (Latin-1). Binary files, and a folder's \
        .jsonl files whose first line is not a document (other JSON), are skipped and counted. Re-indexing is incremental: unchanged documents (content hash) are skipped, changed \
        ones replaced. The index keeps a copy of its model; later commands need only --db.
        """
    )

    @OptionGroup var index: AnyStoreOptions
    @Option(help: ArgumentHelp("Model for a new index (default: the shipped model).", valueName: "file")) var model: String?
    @Option(name: .customLong("text-field"), help: "JSONL field holding the text.") var textField: String = "text"
    @Option(name: .customLong("id-field"), help: "JSONL field holding the id.") var idField: String = "id"
    @Option(help: "Documents per committed transaction.") var batch: Int = 2_000
    @Option(name: .customLong("stream-over"), help: ArgumentHelp("JSONL files are held in memory until they reach this many MiB in all, other files until their text reaches four times as much; the files beyond (and every .jsonl.gz) are checked whole, then read again as they are indexed (0: every file).", valueName: "MiB")) var streamOver: Int = 256
    @Flag(help: "Remove documents of the given folders whose files are gone.") var prune = false
    @Flag(help: "Skip malformed JSONL lines and unreadable files instead of stopping.") var skipBad = false
    @Flag(help: "Print a JSON summary.") var json = false
    @Flag(help: "Train a model on these documents first, then make a new index with it (one step from a folder to its own model; says what the model gains over the shipped one).") var train = false
    @Option(name: .customLong("save-model"), help: ArgumentHelp("With --train: also write the model to this file.", valueName: "file")) var saveModel: String?
    @Option(name: .customLong("train-epochs"), help: "With --train: passes over the documents.") var trainEpochs: Int = TrainingConfig().epochs
    @Option(name: .customLong("train-sample"), help: ArgumentHelp("With --train: train on at most this many of the documents, evenly spaced; all are indexed.", valueName: "n")) var trainSample: Int = Self.defaultTrainSample
    @Option(help: ArgumentHelp("Index float vectors (npy, fvecs, or JSONL with \"id\" and \"vector\") instead of documents; a new index needs a vector --model.", valueName: "file")) var vectors: String?
    @Option(help: ArgumentHelp("With --vectors: one id per line, one line per vector (default: the JSONL ids, else 0-based row numbers).", valueName: "file")) var ids: String?
    @Option(help: ArgumentHelp("With --vectors, for a new index: keep the vectors for rescoring as int8, float16 or float32.", valueName: "format")) var storeVectors: VectorStorage?
    @Option(help: ArgumentHelp("Index ready-made binary codes: JSONL with \"id\" and \"code\" (hex, bit 0 last, as `export` writes; other fields kept as metadata) into a code-only index.", valueName: "file")) var codes: String?
    @Argument(help: ArgumentHelp("Files, folders, or - for JSONL on standard input.", valueName: "path")) var paths: [String] = []

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1 (got \(batch))") }
        guard streamOver >= 0 && streamOver <= 1 << 40 else { throw ValidationError("--stream-over must be a size in MiB, 0 or more (got \(streamOver))") }
        guard saveModel == nil || train else { throw ValidationError("--save-model goes with --train") }
        guard trainEpochs >= 1 else { throw ValidationError("--train-epochs must be at least 1 (got \(trainEpochs))") }
        guard trainSample >= 1 else { throw ValidationError("--train-sample must be at least 1 (got \(trainSample))") }
        if train && (codes != nil || vectors != nil) { throw ValidationError("--train trains a text model: give documents, not --codes or --vectors") }
        if PostgresLocation.isURL(index.db) && (train || prune) {
            throw ValidationError("--db \(index.db): --train and --prune go with an index directory (train with `twentyq train`, then index into PostgreSQL with --model FILE)")
        }
        if codes != nil {
            guard paths.isEmpty, vectors == nil else { throw ValidationError("give --codes FILE alone, without document paths or --vectors") }
            guard model == nil, ids == nil, storeVectors == nil, !prune else { throw ValidationError("--model, --ids, --store-vectors and --prune do not apply to --codes") }
        } else if vectors != nil {
            guard paths.isEmpty else { throw ValidationError("give either --vectors FILE or document paths, not both") }
            guard !prune else { throw ValidationError("--prune applies to folders of documents, not to --vectors") }
        } else {
            guard !paths.isEmpty else { throw ValidationError("give files or folders to index (or --vectors FILE)") }
            guard !train || model == nil else { throw ValidationError("give --train or --model, not both") }
            guard ids == nil, storeVectors == nil else { throw ValidationError("--ids and --store-vectors go with --vectors") }
        }
    }

    func run() throws {
        if let codes { return try indexCodes(codes) }
        if let vectors { return try indexVectors(vectors) }
        let start = Date()
        let postgres = try PostgresTarget(db: index.db)
        if train && FileManager.default.fileExists(atPath: index.db + "/data.mdb") {
            throw IndexError.alreadyExists(path: index.db)  // a new model needs a new index
        }
        // Every line and id is checked before the index is created or changed, so bad input
        // leaves no trace (not even a new, empty index); --skip-bad skips such documents and
        // counts them. JSONL files past --stream-over are then read again as they are indexed
        // (DocumentSources); with --train, once more before, for the training sample.
        var sources = DocumentSources(textField: textField, idField: idField, skipBad: skipBad, streamOver: streamOver << 20)
        if postgres == nil && FileManager.default.fileExists(atPath: index.db + "/data.mdb") { sources.existing = try CodeIndex.open(at: index.db, readOnly: true) }
        var gathered = try sources.gather(paths)
        var chosen = try model.map { try ModelFile.read($0) }
        if let postgres { return try indexDocuments(gathered, sources: sources, model: chosen, into: postgres, start: start) }
        var gains: [String: Any]?
        if train {
            var sample = EvenSample(count: gathered.count, limit: trainSample)
            try sources.stream(gathered) { sample.take($0) }
            let own = OwnModel(documents: sample.documents, of: gathered.count, epochs: trainEpochs, threads: SearchOptions.onlineCores)
            let trained = try own.train()
            if let saveModel { try ModelFile.write(trained, to: saveModel) }
            do { gains = try own.comparison(trained: trained, shipped: try DefaultModel.load()) } catch {
                warn("the model is trained and used, but what it gains could not be measured: \(error)")
            }
            chosen = trained
        }
        let target = try DocumentIndex.open(at: index.db, model: chosen)
        try Self.checkFolderCollisions(gathered.idsAndFields, in: target)
        var report = AddSummary()
        report.unchanged = gathered.unchanged.count
        var progress = Progress(total: gathered.count, label: "indexing")
        // Every id was checked distinct by `gather`; the places it kept for the error messages
        // go now unless --prune needs the ids (a million of them hold about 95 MB).
        if !prune { gathered.origins = [:] }
        // One transaction per batch; the next batch is encoded while one is written. The
        // coverage sample (2,000 documents, evenly spaced) is taken on the way.
        let writer = try target.writer(batch: batch, idsChecked: true) { progress.update($0) }
        var sample = EvenSample(count: gathered.count, limit: 2_000)
        try sources.stream(gathered) { documents in
            sample.take(documents)
            try writer.add(documents)
        }
        report += try writer.finish()
        progress.finish()
        var pruned = 0
        if prune && !gathered.roots.isEmpty {
            let present = Set(gathered.origins.keys).union(gathered.unchanged)  // files read, and files not read because unchanged
            var gone: [String] = []
            try target.forEachDocument { document in
                if let root = document.fields[DocumentSources.rootField], gathered.roots.contains(root), !present.contains(document.id) {
                    gone.append(document.id)
                }
                return true
            }
            pruned = try target.remove(ids: gone)
        }
        let seconds = Date().timeIntervalSince(start)
        let total = try target.count
        let skipped = gathered.skipped.values.reduce(0, +)
        let coverage = Self.warnOfPoorCoverage(target.model, sample: sample.texts, trainedOnThem: train)
        if let gains, !json {
            print(String(format: "own model: knows %.0f%% of the words (shipped model %.0f%%); the first line of a document, searched by the codes alone "
                         + "(--rescore none), finds it among the first 10 for %.0f%% of %d documents (shipped model %.0f%%)",
                         100 * (gains["coverage"] as! Double), 100 * (gains["default_coverage"] as! Double),
                         100 * (gains["first_line_found_at_10"] as! Double), gains["queries"] as! Int,
                         100 * (gains["default_first_line_found_at_10"] as! Double)))
        }
        if json {
            print(try jsonLine([
                "own_model": gains.map { $0 as Any } ?? NSNull(),
                "token_coverage": coverage.map { $0 as Any } ?? NSNull(),
                "added": report.added, "replaced": report.replaced, "unchanged": report.unchanged, "skipped": skipped,
                "skipped_reasons": gathered.skipped, "read_as": gathered.otherEncodings, "cut": gathered.cut, "pruned": pruned, "documents": total, "seconds": seconds,
                "docs_per_second": Double(gathered.count) / max(seconds, 1e-9), "db": index.db,
            ]))
        } else {
            let reasons = gathered.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            let encodings = gathered.otherEncodings.sorted { $0.key < $1.key }.map { "\($0.value) read as \($0.key)" }.joined(separator: ", ")
            print("added \(report.added), replaced \(report.replaced), unchanged \(report.unchanged), skipped \(skipped)"
                  + (reasons.isEmpty ? "" : " (\(reasons))") + (prune ? ", pruned \(pruned)" : "")
                  + String(format: " in %.2f s; ", seconds) + CLIMessages.count(total, "document") + " in \(index.db)"
                  + (encodings.isEmpty ? "" : "; files not in UTF-8: \(encodings)")
                  + (gathered.cut == 0 ? "" : "; \(CLIMessages.count(gathered.cut, "file")) larger than \(DocumentFile.textLimit >> 20) MiB of text indexed as "
                     + "\(gathered.cut == 1 ? "its" : "their") first \(DocumentFile.textLimit >> 20) MiB"))
        }
    }
}

extension IndexCommand {
    /// `--train-sample`: the documents `index --train` trains on at most. A rule: the size of
    /// the shipped model's training corpus (51,171 documents), which trains here in about 10
    /// minutes on 2 cores (2026-12-04); training time grows faster than the count (the nearest-neighbour
    /// graph), and the sample's vocabulary and codes serve the rest of a corpus of one kind.
    static let defaultTrainSample = 50_000

    /// Below this share of known words `index` warns. A rule, not a fit: when the model does
    /// not know half of the words, half of each document is invisible to its code.
    static let poorCoverage = 0.5

    /// The model's token coverage of `sample` (nil when empty), with a warning on standard
    /// error when it is poor: what to do, or, for a model just trained on these documents
    /// (`trainedOnThem`), why (a word enters its vocabulary when it occurs in at least
    /// `TrainingConfig.minDocumentFrequency` documents).
    static func warnOfPoorCoverage(_ model: EncoderModel, sample: [String], trainedOnThem: Bool = false) -> Double? {
        guard !sample.isEmpty else { return nil }
        let coverage = model.tokenCoverage(sample)
        if coverage < Self.poorCoverage {
            let percent = String(format: "%.0f%%", 100 * coverage)
            if trainedOnThem {
                warn("the model trained on these documents knows \(percent) of their words: a word enters its vocabulary when at least "
                     + "\(TrainingConfig().minDocumentFrequency) of the documents it was trained on hold it, and few words do here, so "
                     + "their codes miss much of what they say (exact words still match through the lexical stage). More documents of "
                     + "the same kind give it more words (docs/INDEXING.md)")
            } else {
                warn("the model knows \(percent) of the words in these documents, so their codes miss "
                     + "much of what they say (exact words still match through the lexical stage). Train a model on them: "
                     + "`twentyq index --train --db NEW PATH...` in one step, or `twentyq train --corpus FILE.jsonl --out my.tqm`, "
                     + "then index into a new --db with --model my.tqm (docs/INDEXING.md)")
            }
        }
        return coverage
    }

    /// Reads the whole file (checking every line) before the index is created or changed.
    func indexCodes(_ file: String) throws {
        let start = Date()
        guard let data = FileManager.default.contents(atPath: file) else {
            throw InputError("cannot read \(file): check the path and permissions")
        }
        var entries: [IndexEntry] = []
        var bits: Int?
        var seen = Set<String>()
        var lineNumber = 0
        for line in try Corpus.byteLines(data, label: file) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            guard var object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                throw InputError("\(file):\(lineNumber): not a JSON object")
            }
            guard let value = object[idField] else {
                throw InputError("\(file):\(lineNumber): no \"\(idField)\" field (string or integer)")
            }
            guard let id = JSONID.text(value) else {
                throw InputError("\(file):\(lineNumber): \"\(idField)\" must be a string or an integer, not \(JSONID.describe(value))")
            }
            guard let hex = object["code"] as? String, !hex.isEmpty else {
                throw InputError("\(file):\(lineNumber): no \"code\" field (hex digits)")
            }
            let width = bits ?? 4 * hex.utf8.count
            bits = width
            let code: BinaryCode
            do { code = try BinaryCode(hex: hex, bits: width) } catch {
                throw InputError("\(file):\(lineNumber): \(error) (the first line set the width to \(width) bits)")
            }
            guard seen.insert(id).inserted else { throw InputError("\(file):\(lineNumber): id '\(id)' appears twice") }
            object[idField] = nil
            object["code"] = nil
            let metadata = object.isEmpty ? [] : Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
            entries.append(IndexEntry(id: id, code: code, metadata: metadata))
        }
        guard let bits else { throw InputError("\(file) holds no codes") }
        if let postgres = try PostgresTarget(db: index.db) { return try indexCodes(entries, bits: bits, into: postgres, start: start) }
        let target = try CodeIndex.openOrCreate(at: index.db, bits: bits)
        var summary = AddSummary()
        var progress = Progress(total: entries.count, label: "indexing")
        for first in stride(from: 0, to: entries.count, by: batch) {
            summary += try target.add(Array(entries[first ..< min(entries.count, first + batch)]))
            progress.update(min(entries.count, first + batch))
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(start)
        if json {
            print(try jsonLine(["added": summary.added, "replaced": summary.replaced, "codes": try target.count, "bits": bits,
                                "seconds": seconds, "codes_per_second": Double(entries.count) / max(seconds, 1e-9), "db": index.db]))
        } else {
            print("added \(summary.added), replaced \(summary.replaced)" + String(format: " in %.2f s; %d %d-bit codes in %@", seconds, try target.count, bits, index.db))
        }
    }

    func indexVectors(_ file: String) throws {
        if let target = try PostgresTarget(db: index.db) { return try indexVectors(file, into: target) }
        let start = Date()
        let vectorModel = try model.map { try ModelFile.readVectors($0) }
        // Read and check the whole input before the index is created or changed, so a bad
        // file leaves no trace (not even a new, empty index).
        let dimensions: Int
        if FileManager.default.fileExists(atPath: index.db + "/data.mdb") {
            dimensions = try VectorIndex.open(at: index.db, model: vectorModel, readOnly: true).dimensions
        } else if let vectorModel {
            dimensions = vectorModel.dimensions
        } else {
            throw IndexError.modelRequired(path: index.db, kind: .vectors)
        }
        let set = try VectorFile.read(file, dimensions: dimensions)
        let givenIDs = try ids.map { try VectorFile.readIDs($0, count: set.count) }
        if let givenIDs {
            var seen = Set<String>()
            for id in givenIDs { guard seen.insert(id).inserted else { throw IndexError.duplicateID(id) } }
        }
        let target = try VectorIndex.open(at: index.db, model: vectorModel, storage: storeVectors)
        var summary = AddSummary()
        var progress = Progress(total: set.count, label: "indexing")
        let d = set.dimensions
        for first in stride(from: 0, to: set.count, by: batch) {
            let last = min(set.count, first + batch)
            let part = VectorSet(dimensions: d, values: Array(set.values[first * d ..< last * d]),
                                 ids: set.ids.map { Array($0[first ..< last]) }, metadata: set.metadata.map { Array($0[first ..< last]) })
            summary += try target.add(part, ids: givenIDs.map { Array($0[first ..< last]) }, firstRow: first)
            progress.update(last)
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(start)
        let total = try target.count
        if json {
            print(try jsonLine([
                "added": summary.added, "replaced": summary.replaced, "vectors": total, "seconds": seconds,
                "vectors_per_second": Double(set.count) / max(seconds, 1e-9), "db": index.db,
                "stored_vectors": target.settings.storage?.rawValue ?? "none",
            ]))
        } else {
            print("added \(summary.added), replaced \(summary.replaced)" + String(format: " in %.2f s; %d vectors in %@", seconds, total, index.db)
                  + (target.settings.storage.map { " (vectors stored as \($0.rawValue))" } ?? ""))
        }
    }
}

/// Up to `limit` of a run of `count` documents, evenly spaced (the first among them), taken as
/// the documents stream by: document j is taken when j * limit / count reaches a new whole
/// number, so exactly min(count, limit) are taken and the gaps between them differ by at most
/// one. `index` takes the texts whose coverage it reports (2,000) and, with `--train`, the
/// documents the model is trained on (`--train-sample`).
struct EvenSample {
    let count: Int
    let limit: Int
    private(set) var documents: [Document] = []
    private var seen = 0

    init(count: Int, limit: Int) {
        self.count = count
        self.limit = limit
    }

    var texts: [String] { documents.map(\.text) }

    mutating func take(_ run: [Document]) {
        for d in run {
            let j = seen
            seen += 1
            if count <= limit || j == 0 || (j * limit) / count != ((j - 1) * limit) / count { documents.append(d) }
        }
    }
}

extension Rescoring: ExpressibleByArgument {}

/// Prints "warning: ..." on standard error.
func warn(_ message: String) {
    FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
}
