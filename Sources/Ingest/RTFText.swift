import Foundation

/// The text of a Rich Text Format file (WordPad, TextEdit's default, many exports): what a reader
/// sees, without the markup. RTF is a text format (Microsoft's RTF 1.9.1 specification): groups
/// in braces, control words (`\par`, `\u8217`), control symbols (`\~`, `\'e9`) and plain text.
/// Read here in-process, in one pass over the bytes with an explicit group stack (no recursion,
/// so no nesting is too deep), in time linear in the file.
///
/// What is kept: the body text, paragraphs and line breaks as new lines, tabs and table cells as
/// tabs, the named punctuation (`\emdash`, `\lquote`, `\bullet`, ...), Unicode characters
/// (`\uN`, skipping the `\ucN` fallback characters that follow), and bytes in the document's ANSI
/// code page (`\'hh`; `\ansicpg`: 1250-1258, 874, 932, 936, 949, 950; 1252 when it names none or
/// another; `\mac` documents as Mac Roman). Consecutive bytes are decoded together, so the
/// double-byte code pages read. Hidden fields' instructions (`\fldinst`: "HYPERLINK ..."), and the
/// destinations that hold no reading text (font, colour and style tables, document info,
/// headers and footers, pictures, embedded objects' data (their `\result` is kept), `\*`
/// destinations this reader does not know, ...) are dropped;
/// `\bin N` data is skipped. A font whose character set (`\fcharset` in the font table) names
/// another script than the Western one (Cyrillic 204, Greek 161, Central European 238, Japanese
/// 128, ...) has its `\'hh` bytes decoded in that script's code page, as Word and older RTF
/// writers mean them ("\f1 \'cf\'f0\'e8" in a font of \fcharset204 is "При" in a 1252
/// document); a font of the ANSI (0), default (1) or symbol (2) set reads in the document's.
public enum RTFText {
    /// True when `data` begins as an RTF file does: `{\rtf` (after a UTF-8 byte-order mark or
    /// white space, if any).
    public static func isRTF(_ data: Data) -> Bool {
        var rest = data[...]
        if rest.starts(with: [0xEF, 0xBB, 0xBF]) { rest = rest.dropFirst(3) }
        rest = rest.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        return rest.starts(with: Array(#"{\rtf"#.utf8))
    }

    /// The text of the RTF document `data`. Any bytes give a result: an unknown control word is
    /// ignored, an unbalanced brace closes or opens a group, a cut file gives the text before the cut.
    public static func text(_ data: Data) -> String {
        var reader = Reader()
        data.withUnsafeBytes { reader.read($0.bindMemory(to: UInt8.self)) }
        return reader.finish()
    }

    /// One group's state, inherited by the groups inside it.
    private struct Group {
        /// Inside a destination that holds no reading text.
        var skipping = false
        /// Fallback characters after `\uN` (`\ucN`; 1 by default).
        var unicodeSkip = 1
        /// Inside the font table (its words define fonts instead of choosing one).
        var fontTable = false
        /// The font chosen (`\fN`); nil: the document's default font (`\deffN`).
        var font: Int?
    }

    private struct Reader {
        var out = String.UnicodeScalarView()
        var stack: [Group] = []
        var group = Group()
        /// Bytes of `\'hh` escapes not decoded yet (decoded together at the next other token).
        var pending: [UInt8] = []
        var encoding: String.Encoding = .windowsCP1252
        /// The code pages of fonts whose `\fcharset` names one (`Reader.charsetEncoding`).
        var fontEncodings: [Int: String.Encoding] = [:]
        /// The document's default font (`\deffN`), and the font the font table is defining.
        var defaultFont: Int?
        var definingFont: Int?
        /// Fallback characters still to skip after a `\uN`.
        var toSkip = 0

        mutating func read(_ b: UnsafeBufferPointer<UInt8>) {
            var i = 0
            let n = b.count
            while i < n {
                let c = b[i]
                switch c {
                case UInt8(ascii: "{"):
                    flush()
                    stack.append(group)
                    toSkip = 0
                    i += 1
                case UInt8(ascii: "}"):
                    flush()
                    if let outer = stack.popLast() { group = outer }
                    toSkip = 0
                    i += 1
                case UInt8(ascii: "\\"):
                    i = control(b, at: i)
                case 0x0D, 0x0A:
                    i += 1  // line ends in RTF source are not text
                default:
                    flush()
                    if toSkip > 0 {
                        toSkip -= 1
                    } else if !group.skipping {
                        // Plain text is 7-bit by the specification; a stray 8-bit byte is taken
                        // as the code page's.
                        if c < 0x80 { emit(Unicode.Scalar(c)) } else { pending.append(c); flush() }
                    }
                    i += 1
                }
            }
            flush()
        }

        /// Reads the control word or symbol at `b[i]` (a backslash); returns the index after it.
        mutating func control(_ b: UnsafeBufferPointer<UInt8>, at start: Int) -> Int {
            let n = b.count
            var i = start + 1
            guard i < n else { return n }
            let c = b[i]
            if !isLetter(c) {
                // A control symbol.
                i += 1
                if c == UInt8(ascii: "'") {
                    guard i + 1 < n, let hi = hexValue(b[i]), let lo = hexValue(b[i + 1]) else { return i }
                    i += 2
                    if toSkip > 0 { toSkip -= 1; return i }
                    if !group.skipping { pending.append(hi << 4 | lo) }
                    return i
                }
                flush()
                if c == UInt8(ascii: "*") {
                    // An ignorable destination: a reader skips the group unless it knows the
                    // destination's word, and none of those holds reading text.
                    group.skipping = true
                    return i
                }
                if toSkip > 0 { toSkip -= 1; return i }
                guard !group.skipping else { return i }
                switch c {
                case UInt8(ascii: "\\"), UInt8(ascii: "{"), UInt8(ascii: "}"): emit(Unicode.Scalar(c))
                case UInt8(ascii: "~"): emit(" ")
                case UInt8(ascii: "_"): emit("-")
                case 0x0A, 0x0D: emit("\n")  // a backslash before a line end is \par
                case UInt8(ascii: "\t"): emit("\t")
                default: break  // \- (optional hyphen), \| \: and others: nothing to read
                }
                return i
            }
            // A control word: letters, then an optional signed number, then an optional space.
            let wordStart = i
            while i < n, isLetter(b[i]), i - wordStart < 32 { i += 1 }
            let word = String(decoding: UnsafeBufferPointer(rebasing: b[wordStart ..< i]), as: UTF8.self)
            while i < n, isLetter(b[i]) { i += 1 }  // a word longer than any real one: the rest too
            var parameter: Int?
            var negative = false
            if i < n, b[i] == UInt8(ascii: "-"), i + 1 < n, isDigit(b[i + 1]) { negative = true; i += 1 }
            if i < n, isDigit(b[i]) {
                var value = 0
                var digits = 0
                while i < n, isDigit(b[i]) {
                    if digits < 10 { value = value * 10 + Int(b[i] - UInt8(ascii: "0")) }
                    digits += 1
                    i += 1
                }
                parameter = negative ? -value : value
            }
            if i < n, b[i] == UInt8(ascii: " ") { i += 1 }

            if word == "bin" {
                // N bytes of binary data follow (inside a picture or object, usually).
                flush()
                let count = max(0, parameter ?? 0)
                return count >= n - i ? n : i + count
            }
            if word == "u", let parameter {
                // A Unicode character (UTF-16 unit, signed), then `unicodeSkip` fallback characters.
                flush()
                if !group.skipping { unicode(UInt16(truncatingIfNeeded: parameter)) }
                toSkip = group.unicodeSkip
                return i
            }
            if word == "uc" {
                group.unicodeSkip = min(max(0, parameter ?? 1), 16)
                return i
            }
            if word == "ansicpg", let parameter {
                encoding = Self.codePage(parameter) ?? .windowsCP1252
                return i
            }
            if word == "mac" { encoding = Self.codePage(10000)!; return i }
            if word == "deff" { defaultFont = parameter; return i }
            if group.fontTable {
                // `{\f1\fswiss\fcharset204 Arial;}`: which font is defined, and its character set.
                if word == "f" { definingFont = parameter }
                if word == "fcharset", let font = definingFont, let parameter { fontEncodings[font] = Self.charsetEncoding(parameter) }
                return i
            }
            flush()
            if toSkip > 0 { toSkip -= 1; return i }
            if Self.skippedDestinations.contains(word) {
                group.skipping = true
                if word == "fonttbl" { group.fontTable = true }
                return i
            }
            guard !group.skipping else { return i }
            if word == "f" { group.font = parameter; return i }
            if word == "plain" { group.font = nil; return i }  // character formatting back to the defaults
            if let text = Self.wordText[word] { emit(text) }
            return i
        }

        /// A UTF-16 unit of `\uN`: a surrogate pair is joined when its halves come one after another.
        var highSurrogate: UInt16?
        mutating func unicode(_ unit: UInt16) {
            if UTF16.isLeadSurrogate(unit) { highSurrogate = unit; return }
            if UTF16.isTrailSurrogate(unit) {
                if let high = highSurrogate,
                   let scalar = Unicode.Scalar(0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(unit) - 0xDC00)) {
                    highSurrogate = nil
                    emit(scalar)
                }
                return
            }
            highSurrogate = nil
            if let scalar = Unicode.Scalar(unit) { emit(scalar) }
        }

        /// Appends text; a high surrogate waiting for its low half is then dropped.
        mutating func emit(_ scalar: Unicode.Scalar) {
            highSurrogate = nil
            out.append(scalar)
        }

        mutating func emit(_ text: String) {
            highSurrogate = nil
            out.append(contentsOf: text.unicodeScalars)
        }

        /// Decodes the pending `\'hh` bytes in the current font's code page, or the document's.
        mutating func flush() {
            guard !pending.isEmpty else { return }
            defer { pending.removeAll(keepingCapacity: true) }
            let encoding = (group.font ?? defaultFont).flatMap { fontEncodings[$0] } ?? encoding
            if encoding == .windowsCP1252, let text = FileText.windows1252(Data(pending)) {
                emit(text)
            } else if let text = String(data: Data(pending), encoding: encoding) {
                emit(text)
            } else {
                // Bytes the code page does not map (or a lone half of a double-byte character).
                for byte in pending { emit(byte < 0x80 ? Unicode.Scalar(byte) : "\u{FFFD}") }
            }
        }

        mutating func finish() -> String {
            flush()
            return String(out)
        }

        func isLetter(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30 ... 0x39: return c - 0x30
            case 0x61 ... 0x66: return c - 0x61 + 10
            case 0x41 ... 0x46: return c - 0x41 + 10
            default: return nil
            }
        }

        /// The encodings of `\ansicpg` values. Those without a name in `String.Encoding` are
        /// given by CoreFoundation's number (0x8000_0000 | kCFStringEncoding...), which
        /// Foundation decodes on Linux too. Mac Roman is taken that way as well: on Linux,
        /// `String.Encoding.macOSRoman` decodes 0x8E as "±", not "é" (a test holds the mapping).
        static func codePage(_ number: Int) -> String.Encoding? {
            let core: [Int: UInt] = [1255: 0x0505, 1256: 0x0506, 1257: 0x0507, 1258: 0x0508, 874: 0x041D,
                                     936: 0x0421, 949: 0x0422, 950: 0x0423, 10000: 0]
            switch number {
            case 1250: return .windowsCP1250
            case 1251: return .windowsCP1251
            case 1252: return .windowsCP1252
            case 1253: return .windowsCP1253
            case 1254: return .windowsCP1254
            case 932: return .shiftJIS
            default: return core[number].map { String.Encoding(rawValue: 0x8000_0000 | $0) }
            }
        }

        /// The code page of a font's `\fcharset` when it names a script other than the Western
        /// one; nil for ANSI (0), default (1), symbol (2), OEM (255) and unknown sets, which
        /// read in the document's code page.
        static func charsetEncoding(_ charset: Int) -> String.Encoding? {
            let pages = [77: 10000, 128: 932, 129: 949, 134: 936, 136: 950, 161: 1253, 162: 1254, 163: 1258,
                         177: 1255, 178: 1256, 186: 1257, 204: 1251, 222: 874, 238: 1250]
            return pages[charset].flatMap(codePage)
        }

        /// Destinations (group-opening words) whose text is not the document's reading text.
        static let skippedDestinations: Set<String> = [
            "fonttbl", "colortbl", "stylesheet", "info", "pict", "objdata", "objclass", "fldinst", "filetbl",
            "listtable", "listoverridetable", "revtbl", "rsidtbl", "generator", "themedata", "colorschememapping",
            "datastore", "latentstyles", "xmlnstbl", "mmathPr", "pgdsctbl", "protusertbl", "bkmkstart", "bkmkend",
            "header", "headerl", "headerr", "headerf", "footer", "footerl", "footerr", "footerf", "private",
            "nonshppict", "shppict", "shpinst", "userprops", "docvar", "template", "expandedcolortbl",
        ]

        /// Words that stand for text.
        static let wordText: [String: String] = [
            "par": "\n", "line": "\n", "sect": "\n", "page": "\n", "row": "\n", "outlinelevel": "",
            "tab": "\t", "cell": "\t", "nestcell": "\t",
            "emdash": "\u{2014}", "endash": "\u{2013}", "emspace": " ", "enspace": " ", "qmspace": " ",
            "bullet": "\u{2022}", "lquote": "\u{2018}", "rquote": "\u{2019}", "ldblquote": "\u{201C}",
            "rdblquote": "\u{201D}", "zwj": "", "zwnj": "",
        ]
    }
}
