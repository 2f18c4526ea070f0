import BinaryCodes
import CodeStore
import Foundation
import Ingest
import TwentyQ

/// Documents gathered from the paths given to `twentyq index`, every line and id checked, with
/// what was skipped and why.
struct GatheredDocuments {
    /// The documents read into memory: all of them, unless files were left on disk to be read
    /// again (`DocumentSources.streamOver`).
    var documents: [Document] = []
    /// Files (not JSONL) read and checked, whose text was let go past the budget: read again as
    /// they are indexed.
    var deferred: [DeferredFile] = []
    /// What to index, in order: runs of `documents`, runs of `deferred`, and JSONL files checked
    /// whole but left on disk (`DocumentSources.stream`).
    var parts: [Part] = []
    /// Reason -> count.
    var skipped: [String: Int] = [:]
    /// Directory roots given (absolute), for --prune.
    var roots: [String] = []
    /// Ids of folder files not read because their size and modification time match what the
    /// index stored for them (`DocumentIndex.fileStampField`) under the same folder.
    var unchanged: [String] = []
    /// Every id to index, with where it came from (for the error on an id given twice).
    var origins: [String: Origin] = [:]
    /// The files and inputs the origins name.
    var sources: [String] = []
    /// Converters found missing and told (once per run each: pdftotext, catdoc, xls2csv).
    var warnedMissingTools: Set<String> = []
    /// Files read as text in another encoding than UTF-8: encoding name -> count.
    var otherEncodings: [String: Int] = [:]
    /// Files whose text was cut to its first `DocumentFile.textLimit` bytes.
    var cut = 0
    /// Bytes of the JSONL files whose documents are held in `documents`.
    var heldJSONLBytes = 0
    /// Bytes (UTF-8) of other files' text held in `documents`.
    var heldTextBytes = 0

    enum Part {
        case documents(Range<Int>)
        case files(Range<Int>)
        /// A JSONL input's documents (`label` names it in errors), by their ids in order, to
        /// tell that the input read again is the one checked.
        case jsonl(JSONLInput, label: String, ids: IDSequence)
    }

    /// Documents to index, in memory and on disk.
    var count: Int {
        parts.reduce(0) { total, part in
            switch part {
            case .documents(let run), .files(let run): return total + run.count
            case .jsonl(_, _, let ids): return total + ids.count
            }
        }
    }

    /// Whether an input of `size` bytes is held in memory under a budget of `budget` bytes for
    /// all inputs counted in `held` (`heldJSONLBytes` for JSONL files, `heldTextBytes` for other
    /// files' text; nil budget: everything held); a held one is counted there.
    mutating func holds(_ size: Int, budget: Int?, counted held: WritableKeyPath<GatheredDocuments, Int>) -> Bool {
        guard let budget, self[keyPath: held] + size > budget else {
            self[keyPath: held] += size
            return true
        }
        return false
    }

    /// A file read and checked whose text is read again when it is indexed: what its document
    /// is, and a hash of the text, which the second reading must give again.
    struct DeferredFile {
        var path: String
        var id: String
        var fields: [String: String]
        var textHash: UInt64
    }

    /// Appends a file whose text is let go (read again by `DocumentSources.stream`).
    mutating func appendDeferred(_ file: DeferredFile) {
        deferred.append(file)
        extendRun(to: deferred.count, Part.files) { if case .files(let run) = $0 { run } else { nil } }
    }

    /// Makes the last part a run that ends at `count` (the item just appended): the last run of
    /// that kind (`run` reads it from a part) extended when it ends just before, else a new one.
    private mutating func extendRun(to count: Int, _ make: (Range<Int>) -> Part, _ run: (Part) -> Range<Int>?) {
        if let last = parts.last, let run = run(last), run.upperBound == count - 1 {
            parts[parts.count - 1] = make(run.lowerBound ..< count)
        } else {
            parts.append(make(count - 1 ..< count))
        }
    }

    /// Every document's id and fields, held or deferred (JSONL left on disk excepted: it never
    /// comes from a folder).
    var idsAndFields: [(id: String, fields: [String: String])] {
        documents.map { ($0.id, $0.fields) } + deferred.map { ($0.id, $0.fields) }
    }

    /// JSONL left on disk: a file, or standard input copied into an unlinked temporary file
    /// (`DocumentSources.spool`), which goes when its handle closes, however the process ends.
    enum JSONLInput {
        case file(String)
        case spool(FileHandle)
    }

    /// Where a document came from: `sources[source]`, at `line` (0: the whole file).
    struct Origin {
        var source: Int32
        var line: Int32
    }

    /// Appends a document read into memory.
    mutating func append(_ document: Document) {
        documents.append(document)
        extendRun(to: documents.count, Part.documents) { if case .documents(let run) = $0 { run } else { nil } }
    }

    /// The index of `label` in `sources`, added when new.
    mutating func source(_ label: String) -> Int32 {
        if sources.last == label { return Int32(sources.count - 1) }
        sources.append(label)
        return Int32(sources.count - 1)
    }

    /// "FILE:LINE" (or the file alone) of an origin.
    func describe(_ origin: Origin) -> String {
        sources[Int(origin.source)] + (origin.line > 0 ? ":\(origin.line)" : "")
    }
}

/// A sequence of ids, told apart from another by its length and an order-sensitive FNV-1a over
/// the ids (each followed by a 0 byte), without keeping them.
struct IDSequence: Equatable {
    private(set) var count = 0
    private var hash = FNV1a()

    mutating func append(_ id: String) {
        hash.combine(id.utf8)
        hash.combine(0)
        count += 1
    }
}

/// Turns `index` arguments into documents:
/// - a directory: every regular file below it, recursively, hidden files and folders excepted;
///   id = path relative to the directory; `.jsonl` and `.jsonl.gz` files inside are read as JSONL
///   (one whose first line is not a document is other JSON: skipped whole and counted);
/// - a file: `.jsonl` as JSONL (one document per line), `.jsonl.gz` the same through
///   `gzip -dc`, anything else as one document whose id is the path as given;
/// - `-`: JSONL on standard input.
/// Any other file is one document, its text read by `load` (DocumentSources+Files.swift,
/// through `DocumentFile`): decompressed when it ends in `.gz`; a PDF through `pdftotext`;
/// office documents and e-books from their ZIP archive; legacy Word and Excel files through
/// catdoc; RTF without its markup; text in UTF-8, UTF-16 (with a byte-order mark) or
/// Windows-1252; HTML and manual pages reduced to text. What gives no text (binary, damaged, empty) is
/// skipped and counted by reason; in a folder, or with --skip-bad, a damaged file is skipped
/// too, and named directly it is an error.
///
/// `gather` reads and checks everything (every line, every id) before anything is written, so
/// bad input leaves the index as it was. JSONL files beyond `streamOver` bytes (in all) then let
/// their documents go, and `stream` reads each such file a second time, a piece at a time,
/// handing its documents on in the same order: `twentyq index` of a large file holds a few
/// batches' documents at a time instead of all of them (1M passages, 980 MB: 1.4 GB). Reading a
/// file twice costs a second parse (on 20 Newsgroups' 35 MB, 14% more time and no memory saved),
/// so files that fit the budget are held. Other files (a folder's) have a budget of their own
/// for their text, four times as large (`textBudget`, 1 GiB by default): reading such a file
/// again costs its decompression, extraction and reduction once more (a folder of 22,577 man
/// pages and docs, about 300 MiB of text, took 11 s held and 15-17 s with all text past
/// 256 MiB read twice, for 60 MB less peak memory). Past it, a file's text is let go and read
/// again as it is indexed, and must be the same text (an FNV-1a hash of it is kept). Standard
/// input is first copied into an unlinked
/// temporary file (`spool`), then read as a file.
struct DocumentSources {
    /// The field marking a document read from a folder with that folder's absolute path, which
    /// `--prune` goes by. Fields named `twentyq.*` are TwentyQ's own: a JSONL line that brings
    /// one is refused, so a user's field can never pass for a marker (a user's own "source"
    /// field once did, and prune deleted the document).
    static let rootField = "twentyq.root"
    static let reservedPrefix = "twentyq."

    var textField = "text"
    var idField = "id"
    var skipBad = false
    /// JSONL files whose documents are held in memory total at most this many bytes (file
    /// sizes); the files beyond it are left on disk after checking, for `stream`. Nil: every
    /// file is held (training takes all documents at once).
    var streamOver: Int?
    /// Other files' text held in memory totals at most this many bytes (4 x `streamOver`);
    /// the files beyond it are read again as they are indexed.
    var textBudget: Int? { streamOver.map { $0 * 4 } }  // --stream-over is at most 2^40 MiB
    /// The index being added to (nil for a new one): a folder file whose stored stamp, under
    /// the same folder, matches the file is not read again.
    var existing: CodeIndex?

    func gather(_ paths: [String]) throws -> GatheredDocuments {
        var out = GatheredDocuments()
        let fm = FileManager.default
        for path in paths {
            if path == "-" {
                guard let streamOver else {
                    try readJSONL(FileHandle.standardInput, label: "stdin", onDisk: nil, into: &out)
                    continue
                }
                // Copied to disk first, so that it can be read again: then it is a file like any.
                let (spool, size) = try Self.spool(FileHandle.standardInput)
                let held = out.holds(size, budget: streamOver, counted: \.heldJSONLBytes)
                try readJSONL(spool, label: "stdin", onDisk: held ? nil : .spool(spool), size: size, into: &out)
                continue
            }
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                throw CorpusError.unreadable(path: path, reason: "no such file or directory")
            }
            if isDir.boolValue {
                let root = URL(fileURLWithPath: path).standardizedFileURL
                out.roots.append(root.path)
                guard let files = FolderWalk.files(below: root.path) else {
                    throw CorpusError.unreadable(path: path, reason: "cannot list the directory")
                }
                let ids = files.map(\.relative)
                let known = try storedStamps(ids)
                // Reading is most of a re-index: show it (on a terminal) from the first file.
                var progress = Progress(total: files.count, label: "reading ")
                defer { progress.finish() }
                // A chunk of files is read on all cores, then taken in path order: ids, counts,
                // warnings and the first error are those of reading one file after another.
                var next = 0
                while next < files.count {
                    let chunk = next..<min(next + Self.readChunk, files.count)
                    var loaded = [Loaded?](repeating: nil, count: chunk.count)
                    let wanted = chunk.filter { n in
                        // What readFile would pass to `load`: a regular file, not JSONL, not unchanged.
                        !Self.isJSONL(files[n].relative) && (files[n].info.st_mode & S_IFMT) == S_IFREG
                            && known[n] != root.path + "|" + Self.stamp(files[n].info)
                    }
                    for (n, content) in zip(wanted, Self.loadAll(wanted.map { root.path + "/" + files[$0].relative })) {
                        loaded[n - chunk.lowerBound] = content
                    }
                    for n in chunk {
                        try readFile(root.path + "/" + files[n].relative, id: ids[n], root: root.path, known: known[n], info: files[n].info,
                                     preloaded: loaded[n - chunk.lowerBound], into: &out)
                        progress.update(n + 1)
                    }
                    next = chunk.upperBound
                }
            } else {
                try readFile(path, id: path, root: nil, known: nil, info: nil, into: &out)
            }
        }
        return out
    }

    /// Hands `body` the documents of `gathered` in order, a run at a time: those in memory, and
    /// each JSONL file left on disk read again, a piece at a time, under the same rules.
    /// - Throws: `InputError` when a file read again no longer gives the documents it gave
    ///   (changed since it was checked), and the errors of reading it; `body`'s errors.
    func stream(_ gathered: GatheredDocuments, _ body: ([Document]) throws -> Void) throws {
        for part in gathered.parts {
            switch part {
            case .documents(let run):
                try body(Array(gathered.documents[run]))
            case .files(let run):
                // Read again on all cores, a chunk at a time, each text checked against the first reading.
                var next = run.lowerBound
                while next < run.upperBound {
                    let chunk = next ..< min(next + Self.readChunk, run.upperBound)
                    let loaded = Self.loadAll(gathered.deferred[chunk].map(\.path))
                    var documents: [Document] = []
                    for (n, content) in zip(chunk, loaded) {
                        let file = gathered.deferred[n]
                        guard case .text(let text, _, _) = content, FNV1a.hash(text.utf8) == file.textHash else {
                            // The files before it are indexed, as a JSONL file's lines before a change are.
                            try body(documents)
                            throw Self.changed(file.path)
                        }
                        documents.append(Document(id: file.id, text: text, fields: file.fields))
                    }
                    try body(documents)
                    next = chunk.upperBound
                }
            case .jsonl(let input, let label, let expected):
                var ids = IDSequence()
                func read(_ handle: FileHandle) throws {
                    _ = try Corpus.forEachJSONLPiece(reading: handle, label: label, textField: textField, idField: idField, requireID: true,
                                                     skipBad: skipBad, hint: Self.skipHint) { piece in
                        var documents: [Document] = []
                        documents.reserveCapacity(piece.count)
                        for line in piece {
                            guard case .document(let d) = try jsonlDocument(line, label: label) else { continue }
                            ids.append(d.id)
                            documents.append(d)
                        }
                        guard ids.count <= expected.count else { throw Self.changed(label) }
                        try body(documents)
                    }
                }
                switch input {
                case .file(let path): try Corpus.reading(path, read)
                case .spool(let handle):
                    do { try handle.seek(toOffset: 0) } catch { throw CorpusError.unreadable(path: label, reason: "its temporary copy cannot be read again: \(error)") }
                    try read(handle)
                }
                guard ids == expected else { throw Self.changed(label) }
            }
        }
    }

    private static func changed(_ path: String) -> Error {
        InputError("\(path) changed while it was being indexed: its documents are no longer those checked before writing began. "
                   + "The batches written before this point are committed; run the same `twentyq index` again to finish")
    }

    private static let skipHint = " (use --skip-bad to skip bad lines)"

    /// Copies `input` to its end into a new temporary file (in `TMPDIR`, else /tmp), unlinked at
    /// once so that it goes when the handle closes, even when the process is killed. Returns the
    /// handle, at offset 0, and the bytes copied.
    /// - Throws: `CorpusError.unreadable` naming standard input, when no temporary file can be
    ///   made or written (a full disk), with what to do.
    static func spool(_ input: FileHandle) throws -> (FileHandle, Int) {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((directory + "/twentyq-stdin-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        func failure(_ what: String) -> Error {
            CorpusError.unreadable(path: "stdin", reason: "\(what) in \(directory), which holds standard input so that it can be read twice; "
                                   + "set TMPDIR to a directory with room, or give the JSONL as a file")
        }
        guard fd >= 0 else { throw failure("cannot make a temporary file (\(String(cString: strerror(errno))))") }
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        let spool = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var size = 0
        while true {
            let data: Data?
            do { data = try input.read(upToCount: 32 << 20) } catch {
                throw CorpusError.unreadable(path: "stdin", reason: (error as NSError).localizedDescription)
            }
            guard let data, !data.isEmpty else { break }
            do { try spool.write(contentsOf: data) } catch { throw failure("cannot write (\((error as NSError).localizedDescription))") }
            size += data.count
        }
        do { try spool.seek(toOffset: 0) } catch { throw failure("cannot read back the temporary file") }
        return (spool, size)
    }

    /// Runs `read` on a JSONL file; inside a folder, a file whose first line is not a document
    /// (`CorpusError.notCorpus`: benchmark results, logs, any other JSON lines kept beside the
    /// documents) is skipped whole and counted, with a warning naming it for the first three, as
    /// a binary file there is skipped. Given by name, the same file stops the run at that line:
    /// the user meant it. Nothing of a skipped file was registered: the first line fails before
    /// any of its documents is handed on.
    func skippingOtherJSON(_ path: String, inFolder: Bool, into out: inout GatheredDocuments,
                                   _ read: (inout GatheredDocuments) throws -> Void) throws {
        do {
            try read(&out)
        } catch let error as CorpusError where inFolder {
            guard case .notCorpus = error else { throw error }
            let count = (out.skipped[Self.otherJSON] ?? 0) + 1
            out.skipped[Self.otherJSON] = count
            if count <= 3 {
                warn("skipped \(error); to index it as one, give it by name, with --text-field and --id-field if its fields are named otherwise"
                     + (count == 3 ? " (further such files are only counted)" : ""))
            }
        }
    }

    /// The reason counted for a folder's JSONL file that is not a corpus.
    static let otherJSON = "JSONL not a corpus"

    /// The "root|stamp" that the existing index holds for each of `ids` (nil where none), read
    /// in one transaction: only the files being walked are looked up, not the whole index.
    private func storedStamps(_ ids: [String]) throws -> [String?] {
        guard let existing else { return ids.map { _ in nil } }
        return try existing.metadata(for: ids).map { bytes in
            guard let bytes, let fields = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                  let root = fields[Self.rootField] as? String, let stamp = fields[DocumentIndex.fileStampField] as? String else { return nil }
            return root + "|" + stamp
        }
    }

    /// Notes where a document to index came from, its id checked (`CodeIndex.validateID`); an
    /// id given twice is an error naming both places.
    func register(_ id: String, from origin: GatheredDocuments.Origin, into out: inout GatheredDocuments) throws {
        if let first = out.origins[id] { throw duplicateError(id, first: first, second: origin, in: out) }
        out.origins[id] = origin
    }

    /// The error for a second document with `id`, naming both places.
    private func duplicateError(_ id: String, first: GatheredDocuments.Origin, second: GatheredDocuments.Origin,
                                in out: GatheredDocuments) -> Error {
        if first.line == 0 && second.line == 0 {
            // Two files: ids of folder files are paths relative to their folder.
            return InputError("id '\(id)' comes from both \(out.describe(first)) and \(out.describe(second)): ids of folder files are "
                              + "paths relative to their folder, so give the folders' common parent folder instead (ids then differ), "
                              + "or index them into separate --db")
        }
        return InputError("\(out.describe(second)): id '\(id)' appears more than once (first at \(out.describe(first))): "
                          + "ids must be unique; remove or rename one")
    }

    /// What a JSONL line gives `index`: a document, or a reason to skip it (the same rule when
    /// the file is checked and when it is streamed).
    private enum LineOutcome {
        case document(Document)
        case skipped(String)
    }

    private func jsonlDocument(_ line: CorpusDocument, label: String) throws -> LineOutcome {
        if let reserved = line.fields.keys.sorted().first(where: { $0.hasPrefix(Self.reservedPrefix) }) {
            throw CorpusError.badLine(path: label, line: line.line, reason: "field \"\(reserved)\" is reserved (fields named \(Self.reservedPrefix)* are TwentyQ's own); rename it")
        }
        if line.text.allSatisfy(\.isWhitespace) { return .skipped("empty") }
        do { try CodeIndex.validateID(line.id) } catch where skipBad { return .skipped("bad id") }
        return .document(Document(id: line.id, text: line.text, fields: line.fields))
    }

    /// Reads and checks JSONL from `handle`; its documents go into memory, or, for an input left
    /// on disk (`onDisk`), are counted, for `stream`. `size`: the file's size in
    /// bytes when known; a file of more than 64 MiB shows its reading progress (on a terminal),
    /// the first sign of life of a long run. `compressed`: for a `.jsonl.gz`, the file's size and
    /// how much of it gzip has read; its bar counts compressed MiB, from 16 MiB (about as much
    /// text as 64 MiB of JSONL, at gzip's usual 4:1 on text).
    func readJSONL(_ handle: FileHandle, label: String, onDisk input: GatheredDocuments.JSONLInput?, size: Int? = nil,
                           compressed: (size: Int, read: () -> Int)? = nil, inFolder: Bool = false,
                           into out: inout GatheredDocuments) throws {
        let mib = 1 << 20, total = ((compressed?.size ?? size ?? 0) + mib - 1) / mib
        var progress = total > (compressed == nil ? 64 : 16)
            ? Progress(total: total, label: "reading ", unit: compressed == nil ? "MiB" : "MiB of gzip") : nil
        defer { progress?.finish() }
        let onDisk = input != nil
        let source = out.source(label)
        var ids = IDSequence()
        let bad = try Corpus.forEachJSONLPiece(reading: handle, label: label, textField: textField, idField: idField, requireID: true,
                                               skipBad: skipBad, hint: Self.skipHint, firstLineDecides: inFolder,
                                               progress: { progress?.update(min((compressed?.read() ?? $0) / mib, total)) }) { piece in
            for line in piece {
                switch try jsonlDocument(line, label: label) {
                case .skipped(let reason):
                    out.skipped[reason, default: 0] += 1
                case .document(let document):
                    try register(document.id, from: GatheredDocuments.Origin(source: source, line: Int32(clamping: line.line)), into: &out)
                    if onDisk {
                        ids.append(document.id)
                    } else {
                        out.append(document)
                    }
                }
            }
        }
        progress?.update(total)  // whole MiB above were rounded down
        if bad > 0 { out.skipped["bad JSONL line", default: 0] += bad }
        if let input, ids.count > 0 { out.parts.append(.jsonl(input, label: label, ids: ids)) }
    }
}
