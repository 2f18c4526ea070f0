import Foundation

/// The text of legacy binary Office files (Word 97-2003 `.doc`, Excel 97-2003 `.xls`), by the
/// catdoc package's `catdoc` and `xls2csv` (Debian and Ubuntu: `apt-get install catdoc`;
/// macOS: `brew install catdoc`), each run in its own process (`ExternalConverter`). Such a file
/// is an OLE compound document; only files that begin with its signature are given to the
/// tools (a `.doc` that is RTF or text is read as such). `.ppt` is not read: catppt found no
/// text in the PowerPoint 97 files LibreOffice writes, so they stay binary.
public enum LegacyOfficeText {
    public enum Kind: String, Sendable, CaseIterable {
        case doc, xls

        /// The program that reads this kind, and its arguments (the file is standard input).
        var tool: (name: String, arguments: [String]) {
            switch self {
            case .doc: return ("catdoc", ["-d", "utf-8", "-w", "/dev/stdin"])
            // Cells separated by spaces, strings unquoted, sheets by a form feed (white space).
            case .xls: return ("xls2csv", ["-d", "utf-8", "-q", "0", "-c", " ", "-b", "\u{0C}\n", "/dev/stdin"])
            }
        }
    }

    /// Why a legacy Office file gave no text.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The tool is not on PATH.
        case toolMissing(String)
        /// The tool refused the file, or found no text in it.
        case unreadable(Kind)
        case timedOut(seconds: Double)
        case tooMuchText(limit: Int)

        public var description: String {
            switch self {
            case .toolMissing(let name):
                return "legacy Word and Excel files are read by \(name), which is not installed: install catdoc (apt-get install catdoc; macOS: brew install catdoc)"
            case .unreadable(let kind):
                return "\(kind == .doc ? "catdoc" : "xls2csv") found no text in this .\(kind.rawValue) file (damaged, encrypted, or empty)"
            case .timedOut(let seconds):
                return "the converter took more than \(Int(seconds)) s over this file and was stopped (a damaged file can make it loop; "
                    + "for a file that is only slow, set TWENTYQ_CONVERTER_SECONDS higher)"
            case .tooMuchText(let limit):
                return "the converter wrote more than \(limit >> 20) MiB of text for this file and was stopped"
            }
        }
    }

    /// The kind of a (lower-cased) path whose `data` is an OLE compound document, or nil.
    public static func kind(_ path: String, _ data: Data) -> Kind? {
        guard data.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) else { return nil }
        if path.hasSuffix(".doc") || path.hasSuffix(".dot") { return .doc }
        if path.hasSuffix(".xls") || path.hasSuffix(".xlt") { return .xls }
        return nil
    }

    /// The text of a legacy Office file of `kind`: the file at `path` when `data` is its content
    /// as on disk, else `data` (a decompressed `.gz`) through an unlinked temporary file.
    /// - Throws: `Failure`; `.unreadable` also when the tool's text is only white space (xls2csv
    ///   ends with status 0 on a file it cannot read).
    public static func extract(_ data: Data, kind: Kind, path: String?) throws(Failure) -> String {
        let (name, arguments) = kind.tool
        guard let tool = tools[name] ?? nil else { throw .toolMissing(name) }
        let text: String
        do {
            text = String(decoding: try ExternalConverter.run(tool, arguments: arguments, data: data, path: path), as: UTF8.self)
        } catch {
            switch error {
            case .notStarted, .failed: throw .unreadable(kind)
            case .timedOut(let seconds): throw .timedOut(seconds: seconds)
            case .tooMuchText(let limit): throw .tooMuchText(limit: limit)
            }
        }
        if text.allSatisfy(\.isWhitespace) { throw .unreadable(kind) }
        return kind == .doc ? withoutHyperlinkFields(text) : text
    }

    /// `text` without the instructions of Word's hyperlink fields. catdoc writes a field's
    /// instruction as text before its shown text (`HYPERLINK "https://nodejs.org/" Node.js`,
    /// `HYPERLINK \l "anchor" see below`); the shown text is kept, as RTFText keeps `\fldrslt`
    /// and drops `\fldinst`. Measured on 38 documents written by pandoc and LibreOffice
    /// (`Tools/eval/doc_against_pandoc.sh`): a node.js README held "hyperlink" 678 times.
    package static func withoutHyperlinkFields(_ text: String) -> String {
        guard text.contains("HYPERLINK") else { return text }
        return text.replacing(hyperlinkField, with: " ")
    }

    /// `HYPERLINK`, its switches (`\l`, `\o "tip"`) and its quoted target.
    nonisolated(unsafe) static let hyperlinkField = #/HYPERLINK(?:[ \t]+\\[a-zA-Z])*[ \t]+"[^"\n]*"(?:[ \t]+\\[a-zA-Z](?:[ \t]+"[^"\n]*")?)*/#

    /// The tools' paths on PATH (nil: missing), looked up once per process.
    static let tools: [String: String?] = Dictionary(uniqueKeysWithValues: Kind.allCases.map { ($0.tool.name, ExternalConverter.find($0.tool.name)) })
}
