import Foundation

/// One JSONL document: id, text, labels (from "label" or "labels"), split, and the other fields.
public struct CorpusDocument: Sendable {
    public var id: String
    public var text: String
    public var labels: [String]
    public var split: String?
    /// Every field but the text and the id: strings as they are, other JSON values as JSON text.
    public var fields: [String: String] = [:]
    /// The 1-based line it came from (0 when not read from lines).
    public var line = 0
}

/// Errors reading a corpus, with the line at fault.
public enum CorpusError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case badLine(path: String, line: Int, reason: String)
    /// The input's first line is not a document (asked for with `firstLineDecides`): the file
    /// holds other JSON (results, logs), not a corpus.
    case notCorpus(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .badLine(let path, let line, let reason): return "\(path):\(line): \(reason)"
        case .notCorpus(let path, let line, let reason): return "\(path):\(line): \(reason) on its first line, so it is not a JSONL corpus (other JSON, or another kind of file)"
        }
    }
}

public enum Corpus {
    /// The bytes of each line of `data` (split at "\n", byte-wise: no grapheme breaking over a
    /// large file). The whole must be valid UTF-8, checked once.
    public static func byteLines(_ data: Data, label: String) throws -> [Data] {
        guard String(data: data, encoding: .utf8) != nil else { throw CorpusError.unreadable(path: label, reason: "not valid UTF-8") }
        return lineRanges(data).map { data[$0.range] }
    }

    /// Where each line of `data` lies (split at "\n", the last line included even when empty),
    /// and whether it holds nothing but spaces, tabs and carriage returns. One pass over the raw
    /// bytes with memchr: `Data.split` checked exclusive access byte by byte and took a tenth of
    /// indexing 20 Newsgroups.
    public static func lineRanges(_ data: Data) -> [(range: Range<Data.Index>, blank: Bool)] {
        data.withUnsafeBytes { raw -> [(range: Range<Data.Index>, blank: Bool)] in
            guard let base = raw.baseAddress else { return [(data.startIndex ..< data.startIndex, true)] }
            let bytes = base.assumingMemoryBound(to: UInt8.self)
            var out: [(range: Range<Data.Index>, blank: Bool)] = []
            var start = 0
            while true {
                let rest = raw.count - start
                let hit = rest > 0 ? memchr(bytes + start, 0x0A, rest) : nil
                let end = hit.map { UnsafeRawPointer($0) - base } ?? raw.count
                var blank = true
                for i in start ..< end where bytes[i] != 0x20 && bytes[i] != 0x09 && bytes[i] != 0x0D { blank = false; break }
                out.append((data.startIndex + start ..< data.startIndex + end, blank))
                guard hit != nil else { return out }
                start = end + 1
            }
        }
    }

    /// Calls `body` with a handle reading the bytes of `path` (`.gz` through `gzip -dc`) and
    /// closes it after. When `body` returns, what it left unread is drained and gzip's failure
    /// (a truncated or corrupt file) is reported. When `body` throws before the end of the
    /// stream, gzip is killed (SIGKILL: a child of this process may start with SIGTERM blocked,
    /// and gzip blocked on a full pipe would never end) and the error is rethrown; when it
    /// throws at the end (a truncated file's last line is half a line), gzip's failure is the
    /// one reported, as the cause.
    public static func reading<T>(_ path: String, _ body: (FileHandle) throws -> T) throws -> T {
        try reading(path, counting: { handle, _ in try body(handle) })
    }

    /// `reading(_:_:)`, and `body` is also given how many bytes of the file itself have been
    /// read so far: of a `.gz` file the compressed bytes gzip has taken in (gzip reads the file
    /// as its standard input, through a descriptor that shares its offset with this process),
    /// so that a reading bar can follow a compressed file, whose decompressed size is unknown.
    public static func reading<T>(_ path: String, counting body: (FileHandle, _ fileBytesRead: @escaping () -> Int) throws -> T) throws -> T {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CorpusError.unreadable(path: path, reason: "no such file or directory")
        }
        if isDir.boolValue { throw CorpusError.unreadable(path: path, reason: "is a directory") }
        let file: FileHandle
        do { file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)) } catch {
            throw CorpusError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        defer { try? file.close() }
        let descriptor = file.fileDescriptor
        let fileBytesRead = { Int(max(0, lseek(descriptor, 0, SEEK_CUR))) }
        guard path.hasSuffix(".gz") else { return try body(file, fileBytesRead) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc"]
        let pipe = Pipe(), errors = Pipe()
        process.standardInput = file
        process.standardOutput = pipe
        process.standardError = errors
        do { try process.run() } catch { throw CorpusError.unreadable(path: path, reason: "gzip could not start: \(error)") }
        func failure() -> CorpusError {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return CorpusError.unreadable(path: path, reason: "gzip failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let result: T
        do { result = try body(pipe.fileHandleForReading, fileBytesRead) } catch {
            // At the end of the stream a read returns nothing at once; before it, gzip has
            // more to write (or is writing it), so the read returns without waiting long.
            let atEnd = (try? pipe.fileHandleForReading.read(upToCount: 1))?.isEmpty ?? true
            if !atEnd { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            if atEnd && process.terminationStatus != 0 { throw failure() }
            throw error
        }
        while let rest = try? pipe.fileHandleForReading.read(upToCount: 1 << 20), !rest.isEmpty {}
        process.waitUntilExit()
        if process.terminationStatus != 0 { throw failure() }
        return result
    }

    /// Reads `handle` to its end in pieces of about `chunkBytes` (more when one line is longer)
    /// that end at a line break, and calls `body` with each piece (its final "\n" left out) and
    /// the 0-based number of its first line. A "\n" byte never occurs inside a multi-byte UTF-8
    /// character, so each piece is valid UTF-8 when the whole is. The last piece is what follows
    /// the last "\n" (empty when the input ends with one), as `lineRanges` counts lines.
    /// - Throws: `CorpusError.unreadable` (naming `label`) when the read fails.
    public static func forEachLineChunk(_ handle: FileHandle, label: String, chunkBytes: Int = 32 << 20,
                                        _ body: (_ chunk: Data, _ firstLine: Int) throws -> Void) throws {
        var pending = Data()
        var line = 0
        while true {
            let read: Data?
            do { read = try handle.read(upToCount: max(1, chunkBytes)) } catch {
                throw CorpusError.unreadable(path: label, reason: (error as NSError).localizedDescription)
            }
            guard let read, !read.isEmpty else { break }
            // Only the new bytes are searched: a line longer than a piece is not scanned again
            // at each read.
            let breakInRead = read.lastIndex(of: 0x0A).map { read.distance(from: read.startIndex, to: $0) }
            let before = pending.count
            pending.append(read)
            guard let breakInRead else { continue }
            let lastBreak = pending.index(pending.startIndex, offsetBy: before + breakInRead)
            let chunk = pending[pending.startIndex ..< lastBreak]
            try body(chunk, line)
            line += lineRanges(chunk).count
            pending = Data(pending[(lastBreak + 1)...])
        }
        try body(pending, line)
    }

    /// Reads JSONL: one object per line with a text field (`textField`) and optionally an id
    /// (`idField`; the 1-based line number when absent), "label"/"labels" and "split".
    /// Blank lines are skipped. A line that is not a JSON object, or lacks a string text field,
    /// is an error naming its line number.
    /// The file is read in pieces (`forEachLineChunk`): its bytes are never all in memory.
    public static func readJSONL(_ path: String, textField: String = "text", idField: String = "id") throws -> [CorpusDocument] {
        try reading(path) { try parseJSONL(reading: $0, label: path, textField: textField, idField: idField).documents }
    }

    /// Parses the JSONL that `handle` reads to its end (see `parseJSONL(_:label:...)`), a piece
    /// at a time (`forEachLineChunk`), so that the input's bytes are never all in memory. Line
    /// numbers, the first bad line reported and the documents are those of `parseJSONL` on the
    /// whole input.
    /// `progress` is called after each piece with the bytes parsed so far.
    public static func parseJSONL(reading handle: FileHandle, label: String, textField: String = "text", idField: String = "id",
                                  requireID: Bool = false, skipBad: Bool = false, hint: String = "", firstLineDecides: Bool = false,
                                  chunkBytes: Int = 32 << 20,
                                  progress: (Int) -> Void = { _ in }) throws -> (documents: [CorpusDocument], badLines: Int) {
        var documents: [CorpusDocument] = []
        let badLines = try forEachJSONLPiece(reading: handle, label: label, textField: textField, idField: idField, requireID: requireID,
                                             skipBad: skipBad, hint: hint, firstLineDecides: firstLineDecides,
                                             chunkBytes: chunkBytes, progress: progress) { documents += $0 }
        return (documents, badLines)
    }

    /// As `parseJSONL(reading:...)`, handing `body` the documents of each piece in turn instead
    /// of collecting them: a reader that streams them on (`twentyq index` into batches) holds one
    /// piece's documents at a time. Returns the bad lines skipped (`skipBad`).
    /// `firstLineDecides`: a bad first line (the first that is not blank) throws
    /// `CorpusError.notCorpus` instead, even with `skipBad`, before `body` is called: a folder
    /// walk skips such a file whole as other JSON, where a later bad line is a corpus's fault.
    public static func forEachJSONLPiece(reading handle: FileHandle, label: String, textField: String = "text", idField: String = "id",
                                         requireID: Bool = false, skipBad: Bool = false, hint: String = "",
                                         firstLineDecides: Bool = false,
                                         chunkBytes: Int = 32 << 20, progress: (Int) -> Void = { _ in },
                                         _ body: ([CorpusDocument]) throws -> Void) throws -> Int {
        var badLines = 0, bytes = 0
        var lineSeen = false  // a line that is not blank, in an earlier piece
        try forEachLineChunk(handle, label: label, chunkBytes: chunkBytes) { chunk, firstLine in
            let part = try parseJSONL(chunk, label: label, firstLine: firstLine, textField: textField, idField: idField,
                                      requireID: requireID, skipBad: skipBad, hint: hint, firstLineDecides: firstLineDecides && !lineSeen)
            lineSeen = lineSeen || !part.documents.isEmpty || part.badLines > 0
            badLines += part.badLines
            try body(part.documents)
            bytes += chunk.count + 1  // and its line break
            progress(bytes)
        }
        return badLines
    }

    /// Parses JSONL bytes (see `readJSONL`); `label` names the source in errors.
    /// - Parameters:
    ///   - firstLine: the 0-based number of the first line of `data` in its source (for
    ///     documents read a piece at a time).
    ///   - requireID: a line without `idField` is bad (otherwise its id is its line number).
    ///   - skipBad: count bad lines instead of throwing.
    ///   - hint: appended to the reason of a bad-line error (e.g. how to skip such lines).
    ///   - firstLineDecides: when the first line of `data` that is not blank is bad, throw
    ///     `CorpusError.notCorpus` (whatever `skipBad` says); for `data` that holds the first
    ///     such line of its source.
    /// - Returns: the documents and how many bad lines were skipped.
    public static func parseJSONL(_ data: Data, label: String, firstLine: Int = 0, textField: String = "text", idField: String = "id",
                                  requireID: Bool = false, skipBad: Bool = false,
                                  hint: String = "", firstLineDecides: Bool = false) throws -> (documents: [CorpusDocument], badLines: Int) {
        var docs: [CorpusDocument] = []
        var badLines = 0
        guard String(data: data, encoding: .utf8) != nil else {
            // A first line that is not text at all (a binary file named .jsonl) is not a corpus.
            if firstLineDecides, let first = lineRanges(data).enumerated().first(where: { !$0.element.blank }),
               String(data: data[first.element.range], encoding: .utf8) == nil {
                throw CorpusError.notCorpus(path: label, line: firstLine + first.offset + 1, reason: "bytes that are not UTF-8")
            }
            throw CorpusError.unreadable(path: label, reason: "not valid UTF-8")
        }
        // Lines are parsed on every core (on one thread, JSON parsing was 7% of the work of
        // `twentyq index` on 20 Newsgroups, all of it before the first document was encoded),
        // then taken in file order: the first bad line is still the one reported.
        let lines = lineRanges(data).enumerated().filter { !$0.element.blank }.map { (number: firstLine + $0.offset, range: $0.element.range) }
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, lines.count / 256))
        // Each worker writes only its own lines' places; the buffer outlives the workers.
        nonisolated(unsafe) let parsed = UnsafeMutablePointer<ParsedLine?>.allocate(capacity: lines.count)
        parsed.initialize(repeating: nil, count: lines.count)
        defer { parsed.deinitialize(count: lines.count); parsed.deallocate() }
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for i in stride(from: w, to: lines.count, by: workers) {
                parsed[i] = parseLine(data[lines[i].range], number: lines[i].number, textField: textField, idField: idField, requireID: requireID)
            }
        }
        for (i, line) in lines.enumerated() {
            switch parsed[i]! {
            case .document(let doc): docs.append(doc)
            case .bad(let reason):
                if firstLineDecides && i == 0 {
                    throw CorpusError.notCorpus(path: label, line: line.number + 1, reason: reason)
                }
                guard skipBad else { throw CorpusError.badLine(path: label, line: line.number + 1, reason: reason + hint) }
                badLines += 1
            }
        }
        return (docs, badLines)
    }

    /// One JSONL line read: a document, or why the line is bad.
    private enum ParsedLine {
        case document(CorpusDocument)
        case bad(String)
    }

    /// Reads line `number` (0-based) of a JSONL corpus.
    private static func parseLine(_ line: Data, number: Int, textField: String, idField: String, requireID: Bool) -> ParsedLine {
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else { return .bad("not a JSON object") }
        guard let text = object[textField] as? String else { return .bad("no string field \"\(textField)\"") }
        if requireID && object[idField] == nil { return .bad("no field \"\(idField)\"") }
        var id = String(number + 1)
        if let value = object[idField] {
            guard let text = JSONID.text(value) else {
                return .bad("\"\(idField)\" must be a string or an integer, not \(JSONID.describe(value))")
            }
            id = text
        }
        var doc = CorpusDocument(id: id, text: text, labels: [], split: object["split"] as? String)
        doc.line = number + 1
        if let l = object["label"] as? String { doc.labels = [l] }
        if let l = object["labels"] as? [Any] { doc.labels = l.map { "\($0)" } }
        for (key, value) in object where key != textField && key != idField {
            if let string = value as? String {
                doc.fields[key] = string
            } else if let json = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) {
                doc.fields[key] = String(decoding: json, as: UTF8.self)
            }
        }
        return .document(doc)
    }
}
