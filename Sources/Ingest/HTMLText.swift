/// HTML to text: drops script and style blocks, comments and tags; decodes character
/// references: numeric ones (`&#8212;`, `&#x2014;`) and the named ones that documents use
/// (HTML's Latin-1, typographic, arrow, maths and Greek names). An unknown name or a malformed
/// reference stays as it is; a number that is not a Unicode scalar becomes U+FFFD.
public enum HTMLText {
    public static func strip(_ html: String) -> String {
        var out = ""
        out.reserveCapacity(html.count)
        var i = html.startIndex
        // Case-insensitive searches on the original string: indices into a lower-cased copy
        // would not be valid here (lower-casing can change lengths).
        func skip(past marker: String, from index: String.Index) -> String.Index {
            html.range(of: marker, options: .caseInsensitive, range: index..<html.endIndex)?.upperBound ?? html.endIndex
        }
        func startsWith(_ prefix: String, at index: String.Index) -> Bool {
            html[index...].prefix(prefix.count).lowercased() == prefix
        }
        while i < html.endIndex {
            if html[i] == "<" {
                if startsWith("<script", at: i) { i = skip(past: "</script>", from: i); out.append(" "); continue }
                if startsWith("<style", at: i) { i = skip(past: "</style>", from: i); out.append(" "); continue }
                if startsWith("<!--", at: i) { i = skip(past: "-->", from: i); continue }
                i = skip(past: ">", from: i)
                out.append(" ")
                continue
            }
            out.append(html[i])
            i = html.index(after: i)
        }
        return decodeReferences(out)
    }

    /// Replaces each character reference (`&name;`, `&#N;`, `&#xH;`) in one pass.
    static func decodeReferences(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        out.reserveCapacity(text.count)
        var i = text.startIndex
        while let amp = text[i...].firstIndex(of: "&") {
            out += text[i..<amp]
            let rest = text[text.index(after: amp)...]
            guard let semicolon = rest.prefix(32).firstIndex(of: ";"), let value = resolve(rest[rest.startIndex..<semicolon]) else {
                out.append("&")
                i = text.index(after: amp)
                continue
            }
            out += value
            i = text.index(after: semicolon)
        }
        out += text[i...]
        return out
    }

    /// The text of a reference's body (between `&` and `;`), or nil when it is not one.
    static func resolve(_ body: Substring) -> String? {
        if body.first == "#" {
            let digits = body.dropFirst()
            let number: UInt32?
            if digits.first == "x" || digits.first == "X" { number = UInt32(digits.dropFirst(), radix: 16) } else { number = UInt32(digits, radix: 10) }
            guard let number else { return nil }
            return String(Unicode.Scalar(number).map(Character.init) ?? "\u{FFFD}")
        }
        return named[String(body)]
    }

    static let named: [String: String] = [
        "nbsp": " ", "lt": "<", "gt": ">", "amp": "&", "quot": "\"", "apos": "'",
        "copy": "©", "reg": "®", "trade": "™", "mdash": "—", "ndash": "–", "hellip": "…", "laquo": "«", "raquo": "»",
        "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "sbquo": "‚", "bdquo": "„", "lsaquo": "‹", "rsaquo": "›",
        "bull": "•", "middot": "·", "deg": "°", "plusmn": "±", "times": "×", "divide": "÷", "frac12": "½", "frac14": "¼",
        "frac34": "¾", "sup1": "¹", "sup2": "²", "sup3": "³", "micro": "µ", "para": "¶", "sect": "§", "cent": "¢",
        "pound": "£", "euro": "€", "yen": "¥", "curren": "¤", "iexcl": "¡", "iquest": "¿", "shy": "\u{AD}", "dagger": "†",
        "Dagger": "‡", "permil": "‰", "prime": "′", "Prime": "″", "ordf": "ª", "ordm": "º", "not": "¬", "macr": "¯",
        "acute": "´", "cedil": "¸", "uml": "¨", "brvbar": "¦", "ensp": " ", "emsp": " ", "thinsp": " ", "zwnj": "\u{200C}",
        "zwj": "\u{200D}", "lrm": "\u{200E}", "rlm": "\u{200F}",
        "larr": "←", "rarr": "→", "uarr": "↑", "darr": "↓", "harr": "↔", "lArr": "⇐", "rArr": "⇒", "hArr": "⇔",
        "le": "≤", "ge": "≥", "ne": "≠", "asymp": "≈", "equiv": "≡", "infin": "∞", "minus": "−", "sum": "∑", "prod": "∏",
        "radic": "√", "part": "∂", "nabla": "∇", "isin": "∈", "notin": "∉", "cap": "∩", "cup": "∪", "sub": "⊂", "sup": "⊃",
        "and": "∧", "or": "∨", "forall": "∀", "exist": "∃", "empty": "∅", "int": "∫", "there4": "∴", "sim": "∼",
        "prop": "∝", "ang": "∠", "lowast": "∗", "oplus": "⊕", "otimes": "⊗", "perp": "⊥", "sdot": "⋅", "loz": "◊",
        "spades": "♠", "clubs": "♣", "hearts": "♥", "diams": "♦", "fnof": "ƒ", "circ": "ˆ", "tilde": "˜",
        "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ", "eta": "η", "theta": "θ",
        "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "omicron": "ο", "pi": "π", "rho": "ρ",
        "sigma": "σ", "sigmaf": "ς", "tau": "τ", "upsilon": "υ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
        "Alpha": "Α", "Beta": "Β", "Gamma": "Γ", "Delta": "Δ", "Epsilon": "Ε", "Zeta": "Ζ", "Eta": "Η", "Theta": "Θ",
        "Iota": "Ι", "Kappa": "Κ", "Lambda": "Λ", "Mu": "Μ", "Nu": "Ν", "Xi": "Ξ", "Omicron": "Ο", "Pi": "Π", "Rho": "Ρ",
        "Sigma": "Σ", "Tau": "Τ", "Upsilon": "Υ", "Phi": "Φ", "Chi": "Χ", "Psi": "Ψ", "Omega": "Ω",
        "Agrave": "À", "Aacute": "Á", "Acirc": "Â", "Atilde": "Ã", "Auml": "Ä", "Aring": "Å", "AElig": "Æ", "Ccedil": "Ç",
        "Egrave": "È", "Eacute": "É", "Ecirc": "Ê", "Euml": "Ë", "Igrave": "Ì", "Iacute": "Í", "Icirc": "Î", "Iuml": "Ï",
        "ETH": "Ð", "Ntilde": "Ñ", "Ograve": "Ò", "Oacute": "Ó", "Ocirc": "Ô", "Otilde": "Õ", "Ouml": "Ö", "Oslash": "Ø",
        "Ugrave": "Ù", "Uacute": "Ú", "Ucirc": "Û", "Uuml": "Ü", "Yacute": "Ý", "THORN": "Þ", "szlig": "ß",
        "agrave": "à", "aacute": "á", "acirc": "â", "atilde": "ã", "auml": "ä", "aring": "å", "aelig": "æ", "ccedil": "ç",
        "egrave": "è", "eacute": "é", "ecirc": "ê", "euml": "ë", "igrave": "ì", "iacute": "í", "icirc": "î", "iuml": "ï",
        "eth": "ð", "ntilde": "ñ", "ograve": "ò", "oacute": "ó", "ocirc": "ô", "otilde": "õ", "ouml": "ö", "oslash": "ø",
        "ugrave": "ù", "uacute": "ú", "ucirc": "û", "uuml": "ü", "yacute": "ý", "thorn": "þ", "yuml": "ÿ",
        "OElig": "Œ", "oelig": "œ", "Scaron": "Š", "scaron": "š", "Yuml": "Ÿ",
    ]
}
