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

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .badLine(let path, let line, let reason): return "\(path):\(line): \(reason)"
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

    /// The raw bytes of a file; `.gz` through `gzip -dc`.
    public static func contents(of path: String) throws -> Data {
        let data: Data
        if path.hasSuffix(".gz") {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["gzip", "-dc", path]
            let pipe = Pipe(), errors = Pipe()
            process.standardOutput = pipe
            process.standardError = errors
            do { try process.run() } catch { throw CorpusError.unreadable(path: path, reason: "gzip could not start: \(error)") }
            data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw CorpusError.unreadable(path: path, reason: "gzip failed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        } else {
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw CorpusError.unreadable(path: path, reason: (error as NSError).localizedDescription)
            }
        }
        return data
    }

    /// Reads JSONL: one object per line with a text field (`textField`) and optionally an id
    /// (`idField`; the 1-based line number when absent), "label"/"labels" and "split".
    /// Blank lines are skipped. A line that is not a JSON object, or lacks a string text field,
    /// is an error naming its line number.
    public static func readJSONL(_ path: String, textField: String = "text", idField: String = "id") throws -> [CorpusDocument] {
        try parseJSONL(try contents(of: path), label: path, textField: textField, idField: idField).documents
    }

    /// Parses JSONL bytes (see `readJSONL`); `label` names the source in errors.
    /// - Parameters:
    ///   - requireID: a line without `idField` is bad (otherwise its id is its line number).
    ///   - skipBad: count bad lines instead of throwing.
    ///   - hint: appended to the reason of a bad-line error (e.g. how to skip such lines).
    /// - Returns: the documents and how many bad lines were skipped.
    public static func parseJSONL(_ data: Data, label: String, textField: String = "text", idField: String = "id",
                                  requireID: Bool = false, skipBad: Bool = false,
                                  hint: String = "") throws -> (documents: [CorpusDocument], badLines: Int) {
        var docs: [CorpusDocument] = []
        var badLines = 0
        guard String(data: data, encoding: .utf8) != nil else { throw CorpusError.unreadable(path: label, reason: "not valid UTF-8") }
        for (number, (range, blank)) in lineRanges(data).enumerated() where !blank {
            let line = data[range]
            func bad(_ reason: String) throws {
                guard skipBad else { throw CorpusError.badLine(path: label, line: number + 1, reason: reason + hint) }
                badLines += 1
            }
            guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                try bad("not a JSON object"); continue
            }
            guard let text = object[textField] as? String else { try bad("no string field \"\(textField)\""); continue }
            if requireID && object[idField] == nil { try bad("no field \"\(idField)\""); continue }
            var id = String(number + 1)
            if let value = object[idField] {
                guard let text = JSONID.text(value) else {
                    try bad("\"\(idField)\" must be a string or an integer, not \(JSONID.describe(value))"); continue
                }
                id = text
            }
            var doc = CorpusDocument(id: id, text: text,
                                     labels: [], split: object["split"] as? String)
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
            docs.append(doc)
        }
        return (docs, badLines)
    }
}
