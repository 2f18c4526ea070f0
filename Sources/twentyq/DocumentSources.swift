import Foundation
import Ingest
import TwentyQ

/// Documents gathered from the paths given to `twentyq index`, with what was skipped and why.
struct GatheredDocuments {
    var documents: [Document] = []
    /// Reason -> count.
    var skipped: [String: Int] = [:]
    /// Directory roots given (absolute), for --prune.
    var roots: [String] = []
    /// Ids of folder files not read because their size and modification time match what the
    /// index stored for them (`DocumentIndex.fileStampField`) under the same folder.
    var unchanged: [String] = []
}

/// Turns `index` arguments into documents:
/// - a directory: every regular file below it, recursively, hidden files and folders excepted;
///   id = path relative to the directory; `.jsonl` files inside are read as JSONL;
/// - a file: `.jsonl` as JSONL (one document per line), anything else as one document whose id
///   is the path as given;
/// - `-`: JSONL on standard input.
/// Text files: .html/.htm reduced to text; a file with a NUL byte in its first 8 KiB is binary
/// and skipped; a file that is not UTF-8 is skipped; an empty (or all-space) document is skipped.
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
    /// The index being added to (nil for a new one): a folder file whose stored stamp, under
    /// the same folder, matches the file is not read again.
    var existing: CodeIndex?

    func gather(_ paths: [String]) throws -> GatheredDocuments {
        var out = GatheredDocuments()
        let fm = FileManager.default
        for path in paths {
            if path == "-" {
                try readJSONL(FileHandle.standardInput, label: "stdin", into: &out)
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
                for (n, file) in files.enumerated() {
                    try readFile(root.path + "/" + file.relative, id: ids[n], root: root.path, known: known[n], info: file.info, into: &out)
                    progress.update(n + 1)
                }
            } else {
                try readFile(path, id: path, root: nil, known: nil, info: nil, into: &out)
            }
        }
        return out
    }

    /// `known`: the "root|stamp" the index holds for `id`, if any; `info`: the file's status
    /// when the folder walk has it already.
    private func readFile(_ path: String, id: String, root: String?, known: String?, info walked: stat?,
                          into out: inout GatheredDocuments) throws {
        // A FIFO, socket or device is not read (a FIFO would block, /dev/zero never ends).
        var info = walked ?? stat()
        if walked != nil || stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            if skipBad || root != nil { out.skipped["not a regular file", default: 0] += 1; return }
            throw CorpusError.unreadable(path: path, reason: "not a regular file (a pipe, socket or device); give files, folders, or - for standard input")
        }
        var stamp: String?
        if root != nil, (info.st_mode & S_IFMT) == S_IFREG {
            stamp = "\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            if let root, let stamp, known == root + "|" + stamp { out.unchanged.append(id); return }
        }
        if path.hasSuffix(".jsonl") {
            // Read a piece at a time: the file's bytes are never all in memory.
            guard let handle = FileHandle(forReadingAtPath: path) else {
                if skipBad || root != nil { out.skipped["unreadable", default: 0] += 1; return }
                throw CorpusError.unreadable(path: path, reason: "permission denied")
            }
            defer { try? handle.close() }
            try readJSONL(handle, label: path, size: Int(info.st_size), into: &out)
            return
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            if skipBad || root != nil { out.skipped["unreadable", default: 0] += 1; return }
            throw CorpusError.unreadable(path: path, reason: "permission denied")
        }
        if data.prefix(8192).contains(0) { out.skipped["binary", default: 0] += 1; return }
        guard var text = String(data: data, encoding: .utf8) else {
            if skipBad || root != nil { out.skipped["not UTF-8", default: 0] += 1; return }
            throw CorpusError.unreadable(path: path, reason: "not valid UTF-8 (use --skip-bad to skip such files)")
        }
        let lower = path.lowercased()
        if lower.hasSuffix(".html") || lower.hasSuffix(".htm") { text = HTMLText.strip(text) }
        if text.allSatisfy(\.isWhitespace) { out.skipped["empty", default: 0] += 1; return }
        var fields = ["path": path]
        if let root { fields[Self.rootField] = root }
        if let stamp { fields[DocumentIndex.fileStampField] = stamp }
        out.documents.append(Document(id: id, text: text, fields: fields))
    }

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

    /// `size`: the file's size in bytes when known; a file of more than 64 MiB shows its
    /// reading progress (on a terminal), the first sign of life of a long run.
    private func readJSONL(_ handle: FileHandle, label: String, size: Int? = nil, into out: inout GatheredDocuments) throws {
        let mib = 1 << 20, total = ((size ?? 0) + mib - 1) / mib
        var progress = total > 64 ? Progress(total: total, label: "reading ", unit: "MiB") : nil
        defer { progress?.finish() }
        let (docs, bad) = try Corpus.parseJSONL(reading: handle, label: label, textField: textField, idField: idField, requireID: true,
                                                skipBad: skipBad, hint: " (use --skip-bad to skip bad lines)",
                                                progress: { progress?.update(min($0 / mib, total)) })
        if bad > 0 { out.skipped["bad JSONL line", default: 0] += bad }
        for doc in docs {
            if let reserved = doc.fields.keys.sorted().first(where: { $0.hasPrefix(Self.reservedPrefix) }) {
                throw CorpusError.badLine(path: label, line: doc.line, reason: "field \"\(reserved)\" is reserved (fields named \(Self.reservedPrefix)* are TwentyQ's own); rename it")
            }
            if doc.text.allSatisfy(\.isWhitespace) { out.skipped["empty", default: 0] += 1; continue }
            out.documents.append(Document(id: doc.id, text: doc.text, fields: doc.fields))
        }
    }
}
