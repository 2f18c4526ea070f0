/// A manual page (roff: man(7) or mdoc(7) macros) to the text a reader of `man` sees: requests
/// and macro names dropped, the words of text macros (`.SH NAME`, `.B ls`, `.BR ls (1)`,
/// `.It Fl a`) kept, escapes resolved (`\fBls\fR` -> `ls`, `\-` -> `-`, `\(em` -> `—`,
/// `\[u00E9]` -> `é`), comments, macro definitions, `.ig` blocks, table formats and equations
/// dropped. Without it a bold word is glued to its font escape (`\fBgrep\fR` tokenizes as
/// `fbgrep`) and a snippet starts with `.\" DO NOT MODIFY THIS FILE!`.
///
/// Not a formatter: no filling, hyphenation, registers or conditionals (`.if` lines are
/// dropped whole), and an unknown escape keeps its character. What it keeps is text for
/// search, as `HTMLText` keeps an HTML page's.
public enum RoffText {
    /// True when the last extension of `path` (lower-cased, ".gz" already removed) is a manual
    /// section: a digit 1-9 and up to eight letters or digits (`ls.1`, `CA.pl.1ssl`,
    /// `Moose.3pm`), or `man`.
    public static func isManualPageName(_ path: String) -> Bool {
        let name = path.split(separator: "/").last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        let ext = name[name.index(after: dot)...]
        if ext == "man" { return true }
        guard let first = ext.first, ("1"..."9").contains(first), ext.count <= 9 else { return false }
        return ext.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    /// True when `text` reads as roff: its first line that is not blank is a control line (".",
    /// or "'"), and some line of the first 2,000 opens a page (`.TH`, `.Dd`), a section (`.SH`,
    /// `.Sh`) or points to another page (`.so`). A log rotated to `syslog.1` is neither.
    public static func looksLikeRoff(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var sawFirst = false
            var lines = 0
            for line in Lines(bytes) {
                lines += 1
                if lines > 2_000 { return false }
                guard let first = line.first(where: { $0 != space && $0 != tab && $0 != cr }) else { continue }
                if !sawFirst {
                    guard first == dot || first == quote else { return false }
                    sawFirst = true
                }
                guard line.count >= 3, line[line.startIndex] == dot else { continue }
                let name = line[(line.startIndex + 1)...].prefix { $0 != space && $0 != tab && $0 != cr }
                if ["TH", "Dd", "SH", "Sh", "so"].contains(where: { name.elementsEqual($0.utf8) }) { return true }
            }
            return false
        }
    }

    /// The page's text, a line of output per line of input that holds text.
    /// - Complexity: O(n) in the bytes of `roff`, working on its UTF-8 bytes (a multi-byte
    ///   character never looks like a roff marker, all of which are ASCII).
    public static func strip(_ roff: String) -> String {
        var roff = roff
        let bytes = roff.withUTF8 { Array($0) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var block: Block? = nil
        let mdoc = bytes.starts(with: Array(".Dd".utf8)) || bytes.firstRange(of: Array("\n.Dd".utf8)) != nil
            || bytes.firstRange(of: Array("\n.Sh ".utf8)) != nil
        func emit(_ text: ArraySlice<UInt8>) {
            if !out.isEmpty { out.append(newline) }
            unescape(text, into: &out)
        }
        bytes.withUnsafeBufferPointer { buffer in
            for raw in Lines(buffer) {
                let line = raw.last == cr ? raw.dropLast() : raw
                let control = line.first == dot || line.first == quote
                let request = control ? requestName(line) : ""
                switch block {
                case .skip(let end)?:
                    if control && request == end { block = nil }
                    continue
                case .tableFormat?:
                    // Options and format lines end with the line that ends in ".".
                    if line.last(where: { $0 != space && $0 != tab }) == dot { block = .table }
                    if control && request == "TE" { block = nil }
                    continue
                case .table?:
                    if control && request == "TE" { block = nil; continue }
                    if !control {
                        // Cells: tabs between them, `T{` and `T}` around a long one.
                        var cells = Array(line)
                        for k in cells.indices {
                            if cells[k] == tab { cells[k] = space }
                            if cells[k] == 0x54, k + 1 < cells.count, cells[k + 1] == 0x7B || cells[k + 1] == 0x7D,
                               k == 0 || cells[k - 1] == space {
                                cells[k] = space; cells[k + 1] = space
                            }
                        }
                        emit(cells[...])
                        continue
                    }
                case nil:
                    break
                }
                guard control else { emit(ArraySlice(line)); continue }
                switch request {
                case "", ".": continue  // a comment (`.\"`), or an empty request
                case "de", "de1", "am", "am1", "ig":
                    // Macro definitions and ignored blocks run to "..", or to `.XX` for `.ig XX`.
                    let arguments = words(line, request: request)
                    block = .skip(end: request == "ig" ? (arguments.first.map { String(decoding: $0, as: UTF8.self) } ?? ".") : ".")
                    continue
                case "TS": block = .tableFormat; continue
                case "EQ": block = .skip(end: "EN"); continue
                default: break
                }
                if Self.silent.contains(request) { continue }
                var arguments = words(line, request: request)
                switch request {
                case "IP": arguments = Array(arguments.prefix(1))  // the tag; the indent is a number
                case "BR", "RB", "BI", "IB", "IR", "RI":
                    // Alternating fonts: the words run together (`.BR ls (1)` is "ls(1)").
                    arguments = [arguments.reduce(into: []) { $0 += $1 }]
                default:
                    if mdoc { arguments.removeAll { $0.count <= 3 && Self.mdocCallable.contains(String(decoding: $0, as: UTF8.self)) } }
                }
                arguments.removeAll { $0.isEmpty }
                guard !arguments.isEmpty else { continue }
                let joined = arguments.dropFirst().reduce(into: arguments[0]) { $0.append(space); $0 += $1 }
                emit(joined[...])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private enum Block: Equatable {
        case skip(end: String)
        case tableFormat, table
    }

    private static let dot = UInt8(ascii: "."), quote = UInt8(ascii: "'"), backslash = UInt8(ascii: "\\")
    private static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), cr = UInt8(ascii: "\r"), newline = UInt8(ascii: "\n")
    private static let doubleQuote = UInt8(ascii: "\"")

    /// The lines of a buffer, split at "\n".
    private struct Lines: Sequence, IteratorProtocol {
        let bytes: UnsafeBufferPointer<UInt8>
        var start = 0
        var done = false
        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }
        mutating func next() -> Slice<UnsafeBufferPointer<UInt8>>? {
            guard !done else { return nil }
            var end = start
            while end < bytes.count && bytes[end] != RoffText.newline { end += 1 }
            defer { start = end + 1; done = end >= bytes.count }
            return bytes[start..<end]
        }
    }

    /// The request or macro name of a control line: what follows the control character and
    /// any spaces, up to a space; "" for a comment (`.\"`, `.\#`) or an empty line.
    static func requestName(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        let rest = line.dropFirst().drop { $0 == space || $0 == tab }
        guard let first = rest.first else { return "" }
        if first == backslash {
            let next = rest.dropFirst().first
            if next == doubleQuote || next == UInt8(ascii: "#") { return "" }
        }
        if first == dot { return "." }
        return String(decoding: rest.prefix { $0 != space && $0 != tab }, as: UTF8.self)
    }

    /// The arguments of a control line: words separated by spaces, a double-quoted one may hold
    /// spaces (`""` inside it is a quote); a comment (`\"`) ends them.
    static func words(_ line: Slice<UnsafeBufferPointer<UInt8>>, request: String) -> [[UInt8]] {
        let rest = Array(line.dropFirst().drop { $0 == space || $0 == tab }.dropFirst(request.utf8.count))
        var out: [[UInt8]] = []
        var i = 0
        while i < rest.count {
            if rest[i] == space || rest[i] == tab { i += 1; continue }
            if rest[i] == backslash, i + 1 < rest.count, rest[i + 1] == doubleQuote { break }
            var word: [UInt8] = []
            if rest[i] == doubleQuote {
                i += 1
                while i < rest.count {
                    if rest[i] == doubleQuote {
                        if i + 1 < rest.count && rest[i + 1] == doubleQuote { word.append(doubleQuote); i += 2; continue }
                        i += 1
                        break
                    }
                    if rest[i] == backslash, i + 1 < rest.count {
                        if rest[i + 1] == doubleQuote { i = rest.count; break }  // a comment inside quotes
                        word.append(rest[i]); i += 1
                    }
                    word.append(rest[i])
                    i += 1
                }
            } else {
                while i < rest.count && rest[i] != space && rest[i] != tab {
                    if rest[i] == backslash, i + 1 < rest.count {
                        if rest[i + 1] == doubleQuote { i = rest.count; break }
                        // An escaped space (`\ `) stays inside the word.
                        word.append(rest[i]); i += 1
                    }
                    word.append(rest[i])
                    i += 1
                }
            }
            out.append(word)
        }
        return out
    }

    /// Requests and macros whose arguments are not text a reader sees (layout, registers,
    /// strings, conditionals, files) or that have none: their lines are dropped.
    static let silent: Set<String> = [
        // roff requests
        "ab", "ad", "af", "als", "as", "bd", "bp", "br", "c2", "cc", "ce", "ch", "cs", "cu", "da", "di", "do", "ds", "ec", "el",
        "eo", "ev", "ex", "fc", "fi", "fl", "fp", "ft", "hc", "hw", "hy", "ie", "if", "in", "it", "kern", "lc", "lf", "lg", "ll",
        "ls", "lt", "mc", "mk", "mso", "na", "ne", "nf", "nh", "nm", "nn", "nr", "ns", "nx", "os", "pc", "pi", "pl", "pm", "pn",
        "po", "ps", "rd", "rj", "rm", "rn", "rr", "rs", "rt", "shc", "so", "sp", "ss", "sty", "sv", "sy", "ta", "tc", "ti",
        "tm", "tr", "uf", "ul", "vs", "wh", "ds1", "as1", "rchar", "char", "fchar", "defcolor", "hla", "hlm", "hym", "hys", "pso", "open",
        "close", "write", "cf", "trf", "return", "while", "break", "continue", "nop", "EN", "TE",
        // man(7) macros without text, or whose arguments are indents and index entries
        "PD", "RS", "RE", "LP", "PP", "P", "HP", "TP", "TQ", "UC", "DT", "IX", "AT", "EX", "EE", "UE", "ME", "YS",
        "LINKSTYLE", "TA",
        // mdoc(7) macros without text
        "Dd", "Os", "Bl", "El", "Bd", "Ed", "Pp", "Lp", "Sm", "Bk", "Ek", "Ns", "Bf", "Ef", "Rs", "Re", "Db",
    ]

    /// mdoc(7) macro names that may appear among another macro's arguments (`.It Fl a Ar file`).
    static let mdocCallable: Set<String> = [
        "Ac", "Ao", "Ap", "Aq", "Ar", "At", "Bc", "Bo", "Bq", "Brc", "Bro", "Brq", "Bsx", "Bx", "Cm", "Dc", "Do", "Dq",
        "Dv", "Dx", "Ec", "Em", "En", "Eo", "Er", "Ev", "Fa", "Fc", "Fl", "Fn", "Fo", "Fr", "Ft", "Fx", "Ic", "Li", "Lk",
        "Ms", "Mt", "Nm", "No", "Ns", "Nx", "Oc", "Oo", "Op", "Ox", "Pa", "Pc", "Pf", "Po", "Pq", "Qc", "Ql", "Qo", "Qq",
        "Sc", "So", "Sq", "St", "Sx", "Sy", "Tn", "Ux", "Va", "Vt", "Xc", "Xo", "Xr",
    ]

    /// Named characters (`\(em`, `\[em]`, `\C'em'`) that words and punctuation use; any other
    /// name becomes a space. Punctuation becomes ASCII, as `groff -Tascii` renders it
    /// (`\(em` "--", `\(lq` a straight quote): to search it is a separator either way, and a
    /// page of ASCII takes the tokenizer's ASCII path (curly quotes on every page made
    /// indexing `/usr/share/man/man1` take twice as long). Letters stay letters (`\('e` "é").
    static let specials: [String: String] = [
        "em": "--", "en": "-", "hy": "-", "mi": "-", "aq": "'", "dq": "\"", "lq": "\"", "rq": "\"", "oq": "'", "cq": "'",
        "bu": "*", "co": "(C)", "rg": "(R)", "tm": "(TM)", "ti": "~", "ha": "^", "ga": "`", "rs": "\\", "sl": "/", "ba": "|",
        "pl": "+", "eq": "=", "<=": "<=", ">=": ">=", "!=": "!=", "->": "->", "<-": "<-", "mu": "x", "de": "°", "ss": "ß",
        "'e": "é", "`e": "è", ":u": "ü", ":o": "ö", ":a": "ä", "ae": "æ", "Fo": "<<", "Fc": ">>", "fo": "<", "fc": ">",
        "lh": "<=", "rh": "=>", "at": "@", "sh": "#", "Do": "$", "pc": ".", "tno": "~", "ap": "~", "ul": "_", "ru": "_",
        "sq": "[]", "dg": "+", "dd": "++", "ps": "¶", "sc": "§", "ct": "¢", "Eu": "€", "eu": "€", "Po": "£", "Ye": "¥",
    ]

    /// Strings (`\*(lq`, `\*[Aq]`, `\*R`) that pages use for characters; any other is dropped.
    static let strings: [String: String] = [
        "lq": "\"", "rq": "\"", "Aq": "'", "aq": "'", "R": "(R)", "Tm": "(TM)", "tm": "(TM)", "L\"": "\"", "R\"": "\"",
        "C'": "'", "C`": "`", "PI": "pi",
    ]

    /// Appends `line` with its escapes resolved (`\fB` dropped, `\-` to "-", `\(em` to "—") to
    /// `out`; a comment (`\"`, `\#`) ends the line.
    static func unescape(_ line: ArraySlice<UInt8>, into out: inout [UInt8]) {
        guard line.contains(backslash) else { out += line; return }
        let s = line
        var i = s.startIndex
        let end = s.endIndex
        func isDigit(_ k: Int) -> Bool { k < end && s[k] >= 0x30 && s[k] <= 0x39 }
        /// The name after an escape that takes one: `(xx`, `[name]`, or one character.
        func name() -> ArraySlice<UInt8> {
            guard i < end else { return [] }
            if s[i] == UInt8(ascii: "(") {
                let stop = min(i + 3, end)
                defer { i = stop }
                return s[(i + 1)..<stop]
            }
            if s[i] == UInt8(ascii: "[") {
                var j = i + 1
                while j < end && s[j] != UInt8(ascii: "]") { j += 1 }
                defer { i = min(j + 1, end) }
                return s[(i + 1)..<j]
            }
            // One character: a whole UTF-8 sequence.
            var j = i + 1
            while j < end && s[j] & 0xC0 == 0x80 { j += 1 }
            defer { i = j }
            return s[i..<j]
        }
        /// The argument of an escape delimited by its next character (`\w'text'`).
        func delimited() -> ArraySlice<UInt8> {
            guard i < end else { return [] }
            let delimiter = s[i]
            var j = i + 1
            while j < end && s[j] != delimiter { j += 1 }
            defer { i = min(j + 1, end) }
            return s[(i + 1)..<j]
        }
        func character(_ name: ArraySlice<UInt8>) -> String {
            let name = String(decoding: name, as: UTF8.self)
            if let known = specials[name] { return known }
            // `\[u00E9]`, `\[u0041_0301]`: Unicode scalars by number.
            if name.hasPrefix("u"), name.count >= 5 {
                let scalars = name.dropFirst().split(separator: "_").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
                if !scalars.isEmpty { return String(String.UnicodeScalarView(scalars)) }
            }
            return " "
        }
        while i < end {
            let c = s[i]
            guard c == backslash, i + 1 < end else { out.append(c); i += 1; continue }
            let e = s[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "#"): return  // a comment, to the end of the line
            case UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "g"), UInt8(ascii: "k"), UInt8(ascii: "m"), UInt8(ascii: "M"),
                 UInt8(ascii: "V"), UInt8(ascii: "Y"), UInt8(ascii: "$"):
                _ = name()  // fonts, colours, registers, environment, macro arguments
            case UInt8(ascii: "n"):
                if i < end && (s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-")) { i += 1 }
                _ = name()
            case UInt8(ascii: "s"):
                if i < end && (s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-")) { i += 1 }
                if i < end && (s[i] == UInt8(ascii: "(") || s[i] == UInt8(ascii: "[")) {
                    _ = name()
                } else if i < end && s[i] == quote {
                    _ = delimited()
                } else if isDigit(i) {
                    // `\sN`, and the old two-digit sizes `\s10` to `\s39`.
                    let first = s[i]
                    i += 1
                    if first >= 0x31 && first <= 0x33 && isDigit(i) { i += 1 }
                }
            case UInt8(ascii: "*"): out += (strings[String(decoding: name(), as: UTF8.self)] ?? "").utf8
            case UInt8(ascii: "("), UInt8(ascii: "["):
                i -= 1
                out += character(name()).utf8
            case UInt8(ascii: "C"): out += character(delimited()).utf8
            case UInt8(ascii: "h"), UInt8(ascii: "v"), UInt8(ascii: "w"), UInt8(ascii: "l"), UInt8(ascii: "L"), UInt8(ascii: "o"),
                 UInt8(ascii: "D"), UInt8(ascii: "X"), UInt8(ascii: "Z"), UInt8(ascii: "b"), UInt8(ascii: "x"), UInt8(ascii: "N"),
                 UInt8(ascii: "A"), UInt8(ascii: "B"), UInt8(ascii: "R"), UInt8(ascii: "S"), UInt8(ascii: "H"), UInt8(ascii: "T"),
                 UInt8(ascii: "O"):
                _ = delimited()  // motions, widths, lines, overstrikes, device controls
            case UInt8(ascii: "e"), UInt8(ascii: "E"), backslash: out.append(backslash)
            case UInt8(ascii: " "), UInt8(ascii: "0"), UInt8(ascii: "~"), UInt8(ascii: "t"): out.append(space)
            case UInt8(ascii: "&"), UInt8(ascii: ")"), UInt8(ascii: "%"), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: ","),
                 UInt8(ascii: "c"), UInt8(ascii: "p"), UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "d"), UInt8(ascii: "|"),
                 UInt8(ascii: "^"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "a"), UInt8(ascii: "z"), UInt8(ascii: "!"),
                 UInt8(ascii: "?"):
                break  // zero-width and spacing escapes, conditionals' braces
            case quote: out.append(quote)  // an acute accent, as an apostrophe
            default: out.append(e)  // `\-`, `\.`, `\``, and any other escaped character as itself
            }
        }
    }
}
