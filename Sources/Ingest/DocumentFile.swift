import Foundation

/// The text of one file, as `twentyq index` reads a file that is not JSONL: the one place that
/// tells a file's kind and hands it to its reader.
///
/// - `.gz`: decompressed (`Gunzip`, 256 MiB at most), then read as the file without `.gz`;
/// - PDF (`.pdf` or `%PDF-`): `pdftotext` (`PDFText`);
/// - `.docx`, `.pptx`, `.xlsx`, `.odt`, `.odp`, `.ods`, `.epub`: their XML (`OfficeText`);
/// - `.doc`/`.dot`, `.xls`/`.xlt` that are OLE files: `catdoc`, `xls2csv` (`LegacyOfficeText`);
/// - RTF (`{\rtf` at the start, whatever the name): `RTFText`;
/// - anything else: text in UTF-8, UTF-16 with a byte-order mark or Windows-1252 (`FileText`),
///   `.html`/`.htm` reduced to text (`HTMLText`), manual pages (`ls.1`, `git.1.gz`) to the
///   text `man` shows (`RoffText`).
///
/// Never throws and never traps: what gives no text says why (`Reading`). Thread-safe (`twentyq
/// index` reads a folder's files on all cores).
public enum DocumentFile {
    /// A file's text encoding, as read.
    public typealias Encoding = FileText.Encoding

    /// What reading a file gave.
    public enum Reading: Sendable, Equatable {
        /// Its text, and the encoding it was read in (UTF-8 for extracted text).
        case text(String, encoding: Encoding)
        /// No text to index, and nothing wrong: "binary", "empty", "PDF without text".
        case skipped(reason: String)
        /// The file is damaged or unreadable: a short reason to count it under ("bad PDF",
        /// "bad gzip", "bad .docx", "not UTF-8", "unreadable") and what went wrong.
        case failed(reason: String, detail: String)
        /// The program that reads such files is not installed: its name, a reason to count
        /// the file under ("PDF (no pdftotext)") and what to install.
        case converterMissing(tool: String, reason: String, detail: String)
    }

    /// Reads the file at `path`.
    public static func read(_ path: String) -> Reading {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failed(reason: "unreadable", detail: "permission denied")
        }
        return read(data, name: path, onDisk: true)
    }

    /// Reads `data`, the content of a file called `name` (its extension chooses the reader as
    /// the path's would): for content that is not on disk, such as a file an app was handed.
    public static func read(_ data: Data, name: String) -> Reading {
        read(data, name: name, onDisk: false)
    }

    /// `onDisk`: `data` is the content of the file at `name` as it is on disk (converters are
    /// then given the file itself, not a temporary copy).
    static func read(_ data: Data, name: String, onDisk: Bool) -> Reading {
        var data = data
        var lower = name.lowercased()
        var path: String? = onDisk ? name : nil
        if lower.hasSuffix(".gz") {
            // One document, compressed (README.gz, changelog.Debian.gz, page.html.gz): its
            // contents are read as the file without ".gz" would be; a tarball's are binary.
            do { data = try Gunzip.decompress(data) } catch {
                return .failed(reason: "bad gzip", detail: "\(error)")
            }
            lower.removeLast(3)
            path = nil
        }
        // Text extracted from a PDF or an office document is already a string (UTF-8).
        var extracted: String?
        if PDFText.isPDF(lower, data) {
            do {
                extracted = try PDFText.extract(data, path: path)
            } catch {
                if error == .toolMissing { return .converterMissing(tool: "pdftotext", reason: "PDF (no pdftotext)", detail: "\(error)") }
                return .failed(reason: "bad PDF", detail: "\(error)")
            }
            if extracted!.allSatisfy(\.isWhitespace) { return .skipped(reason: "PDF without text") }
        } else if let kind = OfficeText.kind(lower) {
            do { extracted = try OfficeText.text(data, kind: kind) } catch {
                return .failed(reason: "bad .\(kind.rawValue)", detail: "\(error)")
            }
        } else if let kind = LegacyOfficeText.kind(lower, data) {
            // Word and Excel 97-2003 (OLE compound documents) through catdoc's tools.
            do {
                extracted = try LegacyOfficeText.extract(data, kind: kind, path: path)
            } catch {
                if case .toolMissing(let tool) = error {
                    return .converterMissing(tool: tool, reason: ".\(kind.rawValue) (no \(tool))", detail: "\(error)")
                }
                return .failed(reason: "bad .\(kind.rawValue)", detail: "\(error)")
            }
        } else if RTFText.isRTF(data) {
            // Rich Text Format, by its first bytes whatever the name (.rtf, .doc saved as RTF).
            extracted = RTFText.text(data)
        }
        guard let decoded = extracted.map({ ($0, Encoding.utf8) }) ?? FileText.decode(data) else {
            if data.prefix(8192).contains(0) { return .skipped(reason: "binary") }
            return .failed(reason: "not UTF-8", detail: "neither UTF-8 nor Windows-1252 (Latin-1) text: it holds control bytes, as binary files do")
        }
        var text = decoded.0
        if lower.hasSuffix(".html") || lower.hasSuffix(".htm") {
            text = HTMLText.strip(text)
        } else if RoffText.isManualPageName(lower), RoffText.looksLikeRoff(text) {
            text = RoffText.strip(text)
        }
        if text.allSatisfy(\.isWhitespace) { return .skipped(reason: "empty") }
        return .text(text, encoding: decoded.1)
    }
}
