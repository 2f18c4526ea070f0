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
        return kind == .doc ? withoutFieldInstructions(text) : text
    }

    /// `text` without the instructions of Word's fields. catdoc writes a field's instruction
    /// as text before its result, the field marks as spaces (`HYPERLINK "https://nodejs.org/"
    /// Node.js`, `  PAGEREF _Toc4182 \h  3`, `  TOC \o "1-3" \h`); the result is kept, as
    /// RTFText keeps `\fldrslt` and drops `\fldinst`. Measured on 38 documents written by
    /// pandoc and LibreOffice (`Tools/eval/documents_against_pandoc.sh`): a node.js README held
    /// "hyperlink" 678 times. The fields removed are those whose results are text or page
    /// numbers in ordinary documents (a table of contents, cross-references, page numbers,
    /// captions, mail merge, embedded objects and pictures, form fields); others (ADDIN's
    /// citation data, IF, QUOTE) stay as catdoc writes them.
    ///
    /// A field is recognised by its keyword in capitals followed by a space or the line's end,
    /// and, but for HYPERLINK (which needs a quoted target instead), only after two spaces (a
    /// field mark and the instruction's own leading space), so that prose
    /// in capitals ("the TOC and PAGE numbers") is left alone. Its instruction runs on through
    /// switches (`\h`, `\* MERGEFORMAT`, `\o "1-3"`) and quoted arguments; a field that names
    /// something (`PAGEREF _Toc4182`, `SEQ Figure`, `EMBED Equation.3`) takes one name or
    /// quoted argument first. One pass over the bytes: a document of 1 MB of prose costs no
    /// more than reading it.
    package static func withoutFieldInstructions(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var copied = 0, i = 0, changed = false
        while i < bytes.count {
            guard bytes[i] >= UInt8(ascii: "A"), bytes[i] <= UInt8(ascii: "Z"),
                  let (start, end) = FieldInstruction.bounds(at: i, in: bytes) else { i += 1; continue }
            if !changed { out.reserveCapacity(bytes.count); changed = true }
            out += bytes[copied ..< start]
            out.append(UInt8(ascii: " "))
            copied = end
            i = end
        }
        guard changed else { return text }
        out += bytes[copied...]
        return String(decoding: out, as: UTF8.self)
    }

    static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// The field instructions `withoutFieldInstructions` removes, read from UTF-8 bytes.
    enum FieldInstruction {
        /// How a field's instruction begins after its keyword.
        enum Form {
            /// A quoted target among its switches (HYPERLINK); anywhere.
            case hyperlink
            /// One name or quoted argument, then switches; after two spaces.
            case named
            /// Switches only; after two spaces.
            case plain
        }

        static let keywords: [(bytes: [UInt8], form: Form)] = ([
            ("HYPERLINK", .hyperlink),
            ("PAGEREF", .named), ("NOTEREF", .named), ("STYLEREF", .named), ("REF", .named), ("SEQ", .named),
            ("MERGEFIELD", .named), ("EMBED", .named), ("INCLUDEPICTURE", .named), ("SYMBOL", .named),
            ("TOC", .plain), ("PAGE", .plain), ("NUMPAGES", .plain), ("SECTIONPAGES", .plain),
            ("FORMTEXT", .plain), ("FORMCHECKBOX", .plain), ("FORMDROPDOWN", .plain),
        ] as [(String, Form)]).map { (Array($0.0.utf8), $0.1) }

        /// The bytes of the instruction whose keyword starts at `i` (with the two spaces before
        /// it but for HYPERLINK's), or nil when none starts there.
        static func bounds(at i: Int, in bytes: [UInt8]) -> (start: Int, end: Int)? {
            // The longest keyword at i (PAGEREF, not PAGE), ending at a space or a line's end.
            var found: (bytes: [UInt8], form: Form)?
            for k in keywords where k.bytes.count > found?.bytes.count ?? 0 && i + k.bytes.count <= bytes.count
                && bytes[i ..< i + k.bytes.count].elementsEqual(k.bytes) { found = k }
            guard let (keyword, form) = found else { return nil }
            var at = i + keyword.count
            guard at == bytes.count || isBlank(bytes[at]) || bytes[at] == UInt8(ascii: "\n") else { return nil }
            if form != .hyperlink, !(i >= 2 && isBlank(bytes[i - 1]) && isBlank(bytes[i - 2])) { return nil }
            if form == .named {
                guard let blank = blanks(bytes, at), let name = quoted(bytes, blank) ?? identifier(bytes, blank) else { return nil }
                at = name
            }
            var quotedSeen = false
            while let blank = blanks(bytes, at) {
                if let q = quoted(bytes, blank) {
                    at = q; quotedSeen = true
                } else if let s = switchEnd(bytes, blank) {
                    at = s
                    if let argument = blanks(bytes, at).flatMap({ quoted(bytes, $0) }) { at = argument; quotedSeen = true }
                } else {
                    break
                }
            }
            if form == .hyperlink { return quotedSeen ? (i, at) : nil }
            return at == bytes.count || isBlank(bytes[at]) || bytes[at] == UInt8(ascii: "\n") ? (i - 2, at) : nil
        }

        /// After one or more spaces or tabs at `at`; nil if there are none.
        static func blanks(_ bytes: [UInt8], _ at: Int) -> Int? {
            var j = at
            while j < bytes.count, isBlank(bytes[j]) { j += 1 }
            return j > at ? j : nil
        }

        /// After a quoted argument (`"1-3"`, not across a line) at `at`.
        static func quoted(_ bytes: [UInt8], _ at: Int) -> Int? {
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return nil }
            var j = at + 1
            while j < bytes.count, bytes[j] != UInt8(ascii: "\""), bytes[j] != UInt8(ascii: "\n") { j += 1 }
            return j < bytes.count && bytes[j] == UInt8(ascii: "\"") ? j + 1 : nil
        }

        /// After a name (`_Toc4182`, `Figure`, `Equation.3`, `183`) at `at`.
        static func identifier(_ bytes: [UInt8], _ at: Int) -> Int? {
            func part(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F }
            guard at < bytes.count, part(bytes[at]) else { return nil }
            var j = at + 1
            while j < bytes.count, part(bytes[j]) || bytes[j] == UInt8(ascii: ".") { j += 1 }
            return j
        }

        /// After a switch at `at`: `\h`, `\@`, or `\*` with its format word (`\* MERGEFORMAT`).
        static func switchEnd(_ bytes: [UInt8], _ at: Int) -> Int? {
            guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\") else { return nil }
            let c = bytes[at + 1]
            if c == UInt8(ascii: "*") {
                guard let word = blanks(bytes, at + 2) else { return nil }
                var j = word
                while j < bytes.count, (bytes[j] | 0x20) >= UInt8(ascii: "a"), (bytes[j] | 0x20) <= UInt8(ascii: "z") { j += 1 }
                return j > word ? j : nil
            }
            let letter = (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z")
            return letter || c == UInt8(ascii: "@") || c == UInt8(ascii: "!") || c == UInt8(ascii: "#") ? at + 2 : nil
        }
    }

    /// The tools' paths on PATH (nil: missing), looked up once per process.
    static let tools: [String: String?] = Dictionary(uniqueKeysWithValues: Kind.allCases.map { ($0.tool.name, ExternalConverter.find($0.tool.name)) })
}
