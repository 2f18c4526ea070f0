import BinaryCodes
import CodeStore
import Foundation
import Ingest
import TwentyQ

/// One file of those given to `index` (or found in a folder): JSONL read line by line, any
/// other file read whole (`load`: gzip, PDF, office documents and e-books, legacy Word and
/// Excel, RTF, encodings, HTML and manual pages) into one document.
extension DocumentSources {
    /// Reads one file into `out`: its documents, or what was skipped and why.
    /// - Parameters:
    ///   - known: the "root|stamp" the index holds for `id`, if any.
    ///   - info: the file's status when the folder walk has it already.
    ///   - preloaded: the file's content when `gather` has read it already (`load`, on all cores).
    func readFile(_ path: String, id: String, root: String?, known: String?, info walked: stat?,
                  preloaded: Loaded? = nil, into out: inout GatheredDocuments) throws {
        // A FIFO, socket or device is not read (a FIFO would block, /dev/zero never ends).
        var info = walked ?? stat()
        if walked != nil || stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            if skipBad || root != nil { out.skipped["not a regular file", default: 0] += 1; return }
            throw CorpusError.unreadable(path: path, reason: "not a regular file (a pipe, socket or device); give files, folders, or - for standard input")
        }
        var stamp: String?
        if root != nil, (info.st_mode & S_IFMT) == S_IFREG {
            stamp = Self.stamp(info)
            if let root, let stamp, known == root + "|" + stamp { out.unchanged.append(id); return }
        }
        if path.hasSuffix(".jsonl.gz") {
            // Through `gzip -dc`, a piece at a time. Its parsed size is unknown until it is
            // read, so it is streamed whenever streaming is allowed; its reading bar follows the
            // compressed bytes gzip has taken in.
            try skippingOtherJSON(path, inFolder: root != nil, into: &out) { out in
                try Corpus.reading(path, counting: { handle, fileBytesRead in
                    try readJSONL(handle, label: path, onDisk: streamOver != nil ? .file(path) : nil,
                                  compressed: (size: Int(info.st_size), read: fileBytesRead), inFolder: root != nil, into: &out)
                })
            }
            return
        }
        if path.hasSuffix(".jsonl") {
            // Read a piece at a time: the file's bytes are never all in memory.
            guard let handle = FileHandle(forReadingAtPath: path) else {
                if skipBad || root != nil { out.skipped["unreadable", default: 0] += 1; return }
                throw CorpusError.unreadable(path: path, reason: "permission denied")
            }
            defer { try? handle.close() }
            let size = Int(info.st_size)
            let held = out.holds(size, budget: streamOver, counted: \.heldJSONLBytes)
            try skippingOtherJSON(path, inFolder: root != nil, into: &out) { out in
                try readJSONL(handle, label: path, onDisk: held ? nil : .file(path), size: size, inFolder: root != nil, into: &out)
            }
            return
        }
        let content = preloaded ?? Self.load(path)
        let text: String
        switch content {
        case .text(let read, let encoding, let cut):
            if encoding != .utf8 { out.otherEncodings[encoding.rawValue, default: 0] += 1 }
            if cut { out.cut += 1 }
            text = read
        case .skipped(let reason):
            out.skipped[reason, default: 0] += 1
            return
        case .failed(let reason, let error):
            if skipBad || root != nil { out.skipped[reason, default: 0] += 1; return }
            throw error
        case .noTool(let tool, let reason, let message):
            if out.warnedMissingTools.insert(tool).inserted { warn("\(path): \(message)") }
            if root != nil { out.skipped[reason, default: 0] += 1; return }
            throw CorpusError.unreadable(path: path, reason: message)
        }
        var fields = ["path": path]
        if let root { fields[Self.rootField] = root }
        if let stamp { fields[DocumentIndex.fileStampField] = stamp }
        do { try CodeIndex.validateID(id) } catch where skipBad { out.skipped["bad id", default: 0] += 1; return }
        try register(id, from: GatheredDocuments.Origin(source: out.source(path), line: 0), into: &out)
        if out.holds(text.utf8.count, budget: textBudget, counted: \.heldTextBytes) {
            out.append(Document(id: id, text: text, fields: fields))
        } else {
            out.appendDeferred(.init(path: path, id: id, fields: fields, textHash: FNV1a.hash(text.utf8)))
        }
    }

    /// What reading one file that is not JSONL gave: its text, or why it has none. Apart from
    /// the run's bookkeeping (counts, warnings, ids), so that `gather` reads a folder's files on
    /// all cores (gunzip, PDF, decoding, HTML and roff reduction) and then takes them in path
    /// order.
    enum Loaded {
        /// The text, its encoding, and whether it was cut to `DocumentFile.textLimit`.
        case text(String, FileText.Encoding, cut: Bool)
        /// Skipped, counted under this reason, in every case.
        case skipped(String)
        /// Skipped, counted under `reason`, in a folder or with --skip-bad; else `error`.
        case failed(reason: String, error: Error)
        /// A file whose converter `tool` is missing: skipped in a folder, counted under `reason`
        /// ("PDF (no pdftotext)"), with `message` told once per run and tool.
        case noTool(tool: String, reason: String, message: String)
    }

    /// Reads one file (`DocumentFile`), its failures made the errors `index` reports by path.
    static func load(_ path: String) -> Loaded {
        switch DocumentFile.read(path) {
        case .text(let text, let encoding, let cut):
            return .text(text, encoding, cut: cut)
        case .skipped(let reason):
            return .skipped(reason)
        case .failed(let reason, let detail):
            let hint = reason == "unreadable" ? "" : " (use --skip-bad to skip such files)"
            return .failed(reason: reason, error: CorpusError.unreadable(path: path, reason: detail + hint))
        case .converterMissing(let tool, let reason, let detail):
            return .noTool(tool: tool, reason: reason, message: detail)
        }
    }

    /// `load` of each path, on all cores, in the paths' order.
    static func loadAll(_ paths: [String]) -> [Loaded] {
        var loaded = [Loaded?](repeating: nil, count: paths.count)
        loaded.withUnsafeMutableBufferPointer { slots in
            parallelFor(iterations: paths.count) { k in slots[k] = load(paths[k]) }
        }
        return loaded.map { $0! }
    }

    /// True for a path read line by line as JSONL (`.jsonl`, `.jsonl.gz`); every other file is
    /// read whole by `load`.
    static func isJSONL(_ path: String) -> Bool { path.hasSuffix(".jsonl") || path.hasSuffix(".jsonl.gz") }

    /// A folder file's size and modification time, as its stored stamp holds them.
    static func stamp(_ info: stat) -> String { "\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)" }

    /// Files read at once by `gather` (on all cores) before they are taken in order.
    static let readChunk = 64
}
