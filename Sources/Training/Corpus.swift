import Foundation

/// One JSONL document: id, text, labels (from "label" or "labels"), split, and the other fields.
public struct CorpusDocument: Sendable {
    public var id: String
    public var text: String
    public var labels: [String]
    public var split: String?
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
    /// The lines of a text file; `.gz` files are read through the system's `gzip -dc`.
    public static func lines(of path: String) throws -> [Substring] {
        let data = try contents(of: path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw CorpusError.unreadable(path: path, reason: "not valid UTF-8")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The bytes of each line of `data` (split at "\n", byte-wise: no grapheme breaking over a
    /// large file). The whole must be valid UTF-8, checked once.
    public static func byteLines(_ data: Data, label: String) throws -> [Data] {
        guard String(data: data, encoding: .utf8) != nil else { throw CorpusError.unreadable(path: label, reason: "not valid UTF-8") }
        return data.split(separator: 0x0A, omittingEmptySubsequences: false)
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
        var docs: [CorpusDocument] = []
        for (number, line) in try byteLines(try contents(of: path), label: path).enumerated()
        where !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                throw CorpusError.badLine(path: path, line: number + 1, reason: "not a JSON object")
            }
            guard let text = object[textField] as? String else {
                throw CorpusError.badLine(path: path, line: number + 1, reason: "no string field \"\(textField)\"")
            }
            let id = object[idField].map { "\($0)" } ?? String(number + 1)
            var labels: [String] = []
            if let l = object["label"] as? String { labels = [l] }
            if let l = object["labels"] as? [Any] { labels = l.map { "\($0)" } }
            docs.append(CorpusDocument(id: id, text: text, labels: labels, split: object["split"] as? String))
        }
        return docs
    }
}
