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
/// A document's text is kept up to `textLimit` (16 MiB, the first that many bytes of a plain
/// file are all that is read of it): the index reads at most 20,000 terms of a document and the
/// shipped model 5,000 tokens, about the first 150 KB, so nothing a search can find is lost, and
/// a 20 GB log file is indexed as its beginning instead of filling memory.
///
/// Never throws and never traps: what gives no text says why (`Reading`). Thread-safe (`twentyq
/// index` reads a folder's files on all cores).
public enum DocumentFile {
    /// The most text kept of one document, in UTF-8 bytes: 16 MiB.
    public static let textLimit = 16 << 20

    /// A file's text encoding, as read.
    public typealias Encoding = FileText.Encoding

    /// What reading a file gave.
    public enum Reading: Sendable, Equatable {
        /// Its text, the encoding it was read in (UTF-8 for extracted text), and whether the
        /// text was cut to `textLimit` (the file held more).
        case text(String, encoding: Encoding, cut: Bool)
        /// No text to index, and nothing wrong: "binary", "empty", "PDF without text".
        case skipped(reason: String)
        /// The file is damaged or unreadable: a short reason to count it under ("bad PDF",
        /// "bad gzip", "bad .docx", "not UTF-8", "unreadable") and what went wrong.
        case failed(reason: String, detail: String)
        /// The program that reads such files is not installed: its name, a reason to count
        /// the file under ("PDF (no pdftotext)") and what to install.
        case converterMissing(tool: String, reason: String, detail: String)
    }

    /// Reads the file at `path`: the first `textLimit` bytes of a plain file, a file whose
    /// reader parses it whole (gzip, ZIP-based office documents, RTF) whole, and of a PDF or a
    /// legacy Office file only what tells its kind (its converter reads the file itself).
    public static func read(_ path: String) -> Reading {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return .failed(reason: "unreadable", detail: "permission denied")
        }
        defer { try? handle.close() }
        do {
            var data = try handle.read(upToCount: textLimit + 1) ?? Data()
            var cut = false
            if data.count > textLimit {
                let lower = path.lowercased()
                if lower.hasSuffix(".gz") || OfficeText.kind(lower) != nil || RTFText.isRTF(data) {
                    data += try handle.readToEnd() ?? Data()
                } else if !PDFText.isPDF(lower, data) && LegacyOfficeText.kind(lower, data) == nil {
                    data = cutAtCharacter(data, limit: textLimit)
                    cut = true
                }
            }
            return read(data, name: path, onDisk: true, cut: cut)
        } catch {
            return .failed(reason: "unreadable", detail: "read error: \(error.localizedDescription)")
        }
    }

    /// The first `limit` bytes of `data` or a few fewer, cut where no UTF-8 character (or
    /// UTF-16 unit, after a byte-order mark) is split, so the part decodes as the whole would.
    package static func cutAtCharacter(_ data: Data, limit: Int) -> Data {
        guard data.count > limit else { return data }
        var end = data.startIndex + limit
        if data.starts(with: [0xFF, 0xFE]) || data.starts(with: [0xFE, 0xFF]) {
            end -= (end - data.startIndex) % 2
            // Not between the halves of a surrogate pair.
            let unit = data.starts(with: [0xFF, 0xFE]) ? UInt16(data[end - 1]) << 8 | UInt16(data[end - 2])
                                                       : UInt16(data[end - 2]) << 8 | UInt16(data[end - 1])
            if UTF16.isLeadSurrogate(unit) { end -= 2 }
        } else {
            var back = 0
            while back < 3, data[end - back] & 0xC0 == 0x80 { back += 1 }
            end -= back
        }
        return data[data.startIndex ..< end]
    }

    /// `text` cut to `textLimit` UTF-8 bytes, at a character's end.
    package static func capped(_ text: String) -> String {
        guard text.utf8.count > textLimit else { return text }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: textLimit)
        while end.samePosition(in: text.unicodeScalars) == nil { end = text.utf8.index(before: end) }
        return String(text.unicodeScalars[..<end])
    }

    /// Reads `data`, the content of a file called `name` (its extension chooses the reader as
    /// the path's would): for content that is not on disk, such as a file an app was handed.
    public static func read(_ data: Data, name: String) -> Reading {
        read(data, name: name, onDisk: false)
    }

    /// `onDisk`: `data` is the content of the file at `name` as it is on disk (converters are
    /// then given the file itself, not a temporary copy); `cut`: `data` is the file's first
    /// `textLimit` bytes, not all of it.
    static func read(_ data: Data, name: String, onDisk: Bool, cut: Bool = false) -> Reading {
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
        let kept = capped(text)
        return .text(kept, encoding: decoded.1, cut: cut || kept.utf8.count < text.utf8.count)
    }
}
