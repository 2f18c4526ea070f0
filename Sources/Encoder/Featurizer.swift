import Foundation

/// Text to tokens, deterministically:
/// 1. Unicode NFKC normalisation and case folding (`String.folding([.caseInsensitive], ...)`:
///    "Straße" and "STRASSE" meet);
/// 2. tokens are maximal runs of letters and digits (Unicode categories L and N); everything
///    else separates; tokens longer than `maxTokenLength` characters are dropped (base64 blobs,
///    uuencoded lines), as are tokens of pure digits longer than 4 (numbers rarely generalise);
/// 3. at most `maxTokens` tokens are read from a document (long documents are truncated there);
/// 4. with `bigrams`, each pair of adjacent tokens also yields "a_b".
///
/// The featurizer has no state; the vocabulary and IDF come from training (`Vocabulary`).
public struct Featurizer: Codable, Equatable, Sendable {
    /// Longest token kept, in characters.
    public var maxTokenLength = 24
    /// Tokens read per document; the rest of a longer document is ignored.
    public var maxTokens = 5_000
    /// Adjacent-token bigrams as features.
    public var bigrams = true

    /// Token lengths and token counts a model file may declare.
    public static let supportedTokenLength = 1...1_024
    public static let supportedMaxTokens = 1...10_000_000

    public init(maxTokenLength: Int = 24, maxTokens: Int = 5_000, bigrams: Bool = true) {
        self.maxTokenLength = maxTokenLength
        self.maxTokens = maxTokens
        self.bigrams = bigrams
    }

    /// The unigram tokens of `text`, in order. With `keepNumbers`, runs of digits of any length
    /// are kept (the lexical stage matches them exactly).
    public func tokens(_ text: String, keepNumbers: Bool = false) -> [String] {
        var tokens: [String] = []
        guard maxTokens > 0 else { return tokens }
        let maxDigits = keepNumbers ? Int.max : 4
        Self.scan(text, maxLength: maxTokenLength) { token, length, allDigits in
            if length <= maxTokenLength && !(allDigits && length > maxDigits) { tokens.append(token) }
            return tokens.count < maxTokens
        }
        return tokens
    }

    /// Calls `emit` with each maximal run of letters and digits of `text` (NFKC, case folded)
    /// whose length is at most `maxLength`, with its length in characters (Unicode scalars) and
    /// whether it is all digits, until `emit` returns false. Runs longer than `maxLength` are
    /// skipped without building a string.
    public static func scan(_ text: String, maxLength: Int, _ emit: (String, Int, Bool) -> Bool) {
        scanBytes(text, maxLength: maxLength) { token, length, allDigits, _ in emit(String(decoding: token, as: UTF8.self), length, allDigits) }
    }

    /// `scan` without a string per token: `emit` gets each token's UTF-8 bytes (valid only
    /// during the call), its length in characters, whether it is all digits and whether it is
    /// all ASCII. A text of pure ASCII builds no string at all.
    ///
    /// Text with non-ASCII characters takes the mixed path: its ASCII stretches byte by byte, and
    /// only the stretches around non-ASCII characters through NFKC and case folding
    /// (`mixedScan`). One curly quote or dash used to send a whole document through Foundation's
    /// normalization (20 Newsgroups with one em dash appended to each message: 2,441 instead of
    /// 11,777 documents/s on one core).
    static func scanBytes(_ text: String, maxLength: Int, _ emit: (UnsafeBufferPointer<UInt8>, Int, Bool, Bool) -> Bool) {
        var text = text
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, maxLength)) { buffer in
            text.withUTF8 { bytes in
                if bytes.allSatisfy({ $0 < 0x80 }) {
                    _ = asciiScan(bytes, 0..<bytes.count, maxLength: maxLength, buffer: buffer) { emit($0, $1, $2, true) }
                } else {
                    mixedScan(bytes, maxLength: maxLength, buffer: buffer, emit)
                }
            }
        }
    }

    /// The rules on pure ASCII (`bytes[range]`), byte by byte: NFKC changes nothing there and
    /// case folding is lower-casing, so the result equals `unicodeScan`'s (a test checks this).
    /// `emit` gets each token's lower-cased bytes, in `buffer` (valid only during the call).
    /// Returns false when `emit` asked to stop.
    static func asciiScan(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, maxLength: Int,
                          buffer: UnsafeMutableBufferPointer<UInt8>, _ emit: (UnsafeBufferPointer<UInt8>, Int, Bool) -> Bool) -> Bool {
        var start = -1
        var allDigits = true
        func flush(_ end: Int) -> Bool {
            defer { start = -1; allDigits = true }
            guard start >= 0 else { return true }
            let length = end - start
            guard length <= maxLength else { return true }
            for i in 0..<length {
                let b = bytes[start + i]
                buffer[i] = b >= 0x41 && b <= 0x5A ? b + 0x20 : b
            }
            return emit(UnsafeBufferPointer(rebasing: buffer[0..<length]), length, allDigits)
        }
        for i in range {
            let b = bytes[i]
            let digit = b >= 0x30 && b <= 0x39
            if digit || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) {
                if start < 0 { start = i }
                if !digit { allDigits = false }
            } else if !flush(i) {
                return false
            }
        }
        return flush(range.upperBound)
    }

    @inline(__always) static func isASCIIAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A)
    }

    /// `unicodeScan`'s tokens, in order, at the cost of normalizing only the stretches that hold
    /// non-ASCII characters. A stretch is a run of non-ASCII characters widened over the ASCII
    /// letters and digits touching it, and over the ASCII character before it when it begins
    /// with a combining mark. Normalizing the stretches alone gives what normalizing the whole
    /// text gives, because nothing composes across the ASCII separators between stretches: an
    /// ASCII character is never the second of a composition, and the first only with a
    /// following mark (`e` + U+0301, `=` + U+0338), which the widening keeps inside. Case
    /// folding is character by character. A test holds this path to `unicodeScan` on seeded
    /// random text rich in those cases.
    static func mixedScan(_ bytes: UnsafeBufferPointer<UInt8>, maxLength: Int, buffer: UnsafeMutableBufferPointer<UInt8>,
                          _ emit: (UnsafeBufferPointer<UInt8>, Int, Bool, Bool) -> Bool) {
        let n = bytes.count
        var pending = 0  // where the ASCII not yet scanned begins
        var i = 0
        while i < n {
            if bytes[i] < 0x80 { i += 1; continue }
            var start = i
            while start > pending && isASCIIAlphanumeric(bytes[start - 1]) { start -= 1 }
            if start == i && start > pending && beginsWithMark(bytes, at: i) { start -= 1 }
            var end = i
            while end < n && (bytes[end] >= 0x80 || isASCIIAlphanumeric(bytes[end])) { end += 1 }
            guard asciiScan(bytes, pending..<start, maxLength: maxLength, buffer: buffer, { emit($0, $1, $2, true) }) else { return }
            var go = true
            unicodeScan(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self), maxLength: maxLength) { token, length, allDigits in
                var token = token
                go = token.withUTF8 { emit($0, length, allDigits, $0.allSatisfy { $0 < 0x80 }) }
                return go
            }
            guard go else { return }
            pending = end
            i = end
        }
        _ = asciiScan(bytes, pending..<n, maxLength: maxLength, buffer: buffer) { emit($0, $1, $2, true) }
    }

    /// True when the character whose UTF-8 begins at `bytes[i]` is a combining mark (or has a
    /// combining class): it may compose with the character before it.
    static func beginsWithMark(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        var iterator = UnsafeBufferPointer(rebasing: bytes[i...]).makeIterator()
        var decoder = UTF8()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator) else { return false }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return scalar.properties.canonicalCombiningClass != .notReordered
        }
    }

    /// The general path: NFKC, case folding, Unicode letter and number categories.
    static func unicodeScan(_ text: String, maxLength: Int, _ emit: (String, Int, Bool) -> Bool) {
        let folded = text.precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive], locale: Locale(identifier: "en_US_POSIX"))
        var current = String.UnicodeScalarView()
        var length = 0
        var allDigits = true
        func flush() -> Bool {
            defer { current = String.UnicodeScalarView(); length = 0; allDigits = true }
            guard length > 0 && length <= maxLength else { return true }
            return emit(String(current), length, allDigits)
        }
        for scalar in folded.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                 .decimalNumber, .letterNumber, .otherNumber, .nonspacingMark:
                if length < maxLength + 1 { current.append(scalar) }
                length += 1
                if scalar.properties.numericType == nil { allDigits = false }
            default:
                if !flush() { return }
            }
        }
        _ = flush()
    }

    /// The ASCII path alone (tests compare it with the Unicode path).
    func asciiTokens(_ text: String) -> [String] {
        tokens(text) { text, maxLength, emit in
            var text = text
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, maxLength)) { buffer in
                text.withUTF8 { bytes in
                    _ = Self.asciiScan(bytes, 0..<bytes.count, maxLength: maxLength, buffer: buffer) { emit(String(decoding: $0, as: UTF8.self), $1, $2) }
                }
            }
        }
    }

    /// The path `tokens` takes (for non-ASCII text, the mixed one).
    func scannedTokens(_ text: String) -> [String] { tokens(text, scan: Self.scan) }

    /// The Unicode path alone (tests compare it with the ASCII path).
    func unicodeTokens(_ text: String) -> [String] { tokens(text, scan: Self.unicodeScan) }

    private func tokens(_ text: String, scan: (String, Int, (String, Int, Bool) -> Bool) -> Void) -> [String] {
        var out: [String] = []
        scan(text, maxTokenLength) { t, n, digits in
            if !(digits && n > 4) { out.append(t) }
            return out.count < maxTokens
        }
        return out
    }

    /// Unigrams and (when enabled) bigrams of `text`, with repetitions.
    public func terms(_ text: String) -> [String] {
        let unigrams = tokens(text)
        guard bigrams, unigrams.count > 1 else { return unigrams }
        var out = unigrams
        out.reserveCapacity(unigrams.count * 2)
        for i in 1..<unigrams.count { out.append(unigrams[i - 1] + "_" + unigrams[i]) }
        return out
    }
}
