import BinaryCodes

/// Text to the terms of the lexical stage (BM25), the same for documents and queries:
/// 1. the featurizer's tokens (NFKC, case folding, runs of letters and digits), up to 64
///    characters and with numbers of any length kept, since identifiers, version numbers and
///    error codes must match exactly;
/// 2. English stop words dropped (`stopWords`: the NLTK list of 179, a published list, not
///    chosen on our data);
/// 3. plurals folded by the "S" stemmer (Harman, JASIS 1991): -ies -> -y (not -eies, -aies),
///    -es -> -e (not -aes, -ees, -oes), -s -> "" (not -us, -ss); tokens of 3 characters or
///    fewer are left alone.
///
/// Terms are hashed (`TermHash`) for storage; the analyzer itself has no vocabulary, so it
/// knows every word. Stateless and thread-safe. Stored terms depend on these rules: changing
/// them means re-indexing.
public struct LexicalAnalyzer: Sendable {
    public init() {}

    /// Longest token kept, in characters.
    public static let maxTokenLength = 64
    /// Terms read per document (after stop words); the rest of a longer one is ignored.
    public static let maxTerms = 20_000

    /// The terms of `text`, in order, with repetitions.
    public func terms(_ text: String) -> [String] {
        analyze(text, model: nil).terms
    }

    /// One tokenizing pass for both stages: the terms of `text` and, when `model` is given, the
    /// tokens that `model.tokens(text)` gives (the same list, checked by a test).
    public func analyze(_ text: String, model: Featurizer?) -> (terms: [String], modelTokens: [String]) {
        var terms: [String] = [], modelTokens: [String] = []
        let modelLimit = model.map { $0.maxTokens } ?? 0
        let modelLength = model?.maxTokenLength ?? 0
        Featurizer.scan(text, maxLength: max(Self.maxTokenLength, modelLength)) { token, length, allDigits in
            if modelTokens.count < modelLimit, length <= modelLength, !(allDigits && length > 4) { modelTokens.append(token) }
            if terms.count < Self.maxTerms, length <= Self.maxTokenLength, !Self.stopWords.contains(token) {
                terms.append(Self.stem(token))
            }
            return terms.count < Self.maxTerms || modelTokens.count < modelLimit
        }
        return (terms, modelTokens)
    }

    /// What both stages read of `text`, as `analyze(_:model:)` with the model's terms looked up
    /// (`Vocabulary.termIndices(tokens:bigrams:)`) and the lexical terms hashed (`TermHash`),
    /// without a string per token: an ASCII token is hashed once (`TokenTable.hash`), and that
    /// hash finds it in the vocabulary and the stop words and, unless the stemmer changes it,
    /// is its `TermHash` once finalised. A token with other characters takes the string paths.
    /// A test holds both to the same results.
    /// - Returns: the `TermHash` of each term, in order, with repetitions; the vocabulary
    ///   indices of the model's unigrams and bigrams, in `termIndices(tokens:bigrams:)`'s order.
    package func analyze(_ text: String, featurizer: Featurizer, vocabulary: Vocabulary) -> (termHashes: [UInt64], termIndices: [Int32]) {
        var hashes: [UInt64] = [], indices: [Int32] = []
        var modelCount = 0, previous: Int32 = -1
        let modelLimit = featurizer.maxTokens, modelLength = featurizer.maxTokenLength, bigrams = featurizer.bigrams
        let vocabulary = vocabulary.tokens
        Featurizer.scanBytes(text, maxLength: max(Self.maxTokenLength, modelLength)) { token, length, allDigits, ascii in
            let hash = ascii ? TokenTable.hash(token) : 0
            if modelCount < modelLimit, length <= modelLength, !(allDigits && length > 4) {
                modelCount += 1
                vocabulary.appendTermIndices(token: vocabulary.id(token, hash: hash, ascii: ascii), bigrams: bigrams,
                                             previous: &previous, into: &indices)
            }
            if hashes.count < Self.maxTerms, length <= Self.maxTokenLength {
                if ascii {
                    if Self.stopWordTable.index(of: token, hash: hash) == nil { hashes.append(Self.stemmedHash(token, hash: hash)) }
                } else {
                    let string = String(decoding: token, as: UTF8.self)
                    if !Self.stopWords.contains(string) { hashes.append(TermHash.of(Self.stem(string))) }
                }
            }
            return hashes.count < Self.maxTerms || modelCount < modelLimit
        }
        return (hashes, indices)
    }

    /// `TermHash.of(stem(token))` for an ASCII token whose `TokenTable.hash` is `hash`: the
    /// stemmer's rules on bytes, rehashing only what it changes.
    @inline(__always)
    static func stemmedHash(_ token: UnsafeBufferPointer<UInt8>, hash: UInt64) -> UInt64 {
        let n = token.count
        guard n > 3, token[n - 1] == UInt8(ascii: "s") else { return TermHash.finalize(hash) }
        func endsWith(_ a: UInt8, _ b: UInt8) -> Bool { token[n - 3] == a && token[n - 2] == b }
        let prefix: Int, y: Bool
        if endsWith(UInt8(ascii: "i"), UInt8(ascii: "e")) && token[n - 4] != UInt8(ascii: "e") && token[n - 4] != UInt8(ascii: "a") {
            (prefix, y) = (n - 3, true)  // -ies -> -y
        } else if token[n - 2] == UInt8(ascii: "e") && !endsWith(UInt8(ascii: "a"), UInt8(ascii: "e"))
                    && !endsWith(UInt8(ascii: "e"), UInt8(ascii: "e")) && !endsWith(UInt8(ascii: "o"), UInt8(ascii: "e")) {
            (prefix, y) = (n - 1, false)  // -es -> -e
        } else if token[n - 2] != UInt8(ascii: "u") && token[n - 2] != UInt8(ascii: "s") {
            (prefix, y) = (n - 1, false)  // -s -> ""
        } else {
            return TermHash.finalize(hash)
        }
        var h = FNV1a()
        h.combine(UnsafeBufferPointer(rebasing: token[0 ..< prefix]))
        if y { h.combine(UInt8(ascii: "y")) }
        return TermHash.finalize(h.value)
    }

    /// The ASCII stop words, for `analyze(_:featurizer:vocabulary:)`.
    static let stopWordTable = TokenTable(stopWords.map { ($0, 0) })

    /// Harman's S stemmer.
    static func stem(_ token: String) -> String {
        guard token.utf8.count > 3, token.utf8.last == UInt8(ascii: "s") else { return token }
        if token.hasSuffix("ies") && !token.hasSuffix("eies") && !token.hasSuffix("aies") { return String(token.dropLast(3)) + "y" }
        if token.hasSuffix("es") && !token.hasSuffix("aes") && !token.hasSuffix("ees") && !token.hasSuffix("oes") { return String(token.dropLast()) }
        if !token.hasSuffix("us") && !token.hasSuffix("ss") { return String(token.dropLast()) }
        return token
    }

    /// English stop words (NLTK's list).
    public static let stopWords: Set<String> = [
        "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "you're", "you've", "you'll", "you'd",
        "your", "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "she's", "her", "hers",
        "herself", "it", "it's", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which",
        "who", "whom", "this", "that", "that'll", "these", "those", "am", "is", "are", "was", "were", "be", "been",
        "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if",
        "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about", "against", "between",
        "into", "through", "during", "before", "after", "above", "below", "to", "from", "up", "down", "in", "out",
        "on", "off", "over", "under", "again", "further", "then", "once", "here", "there", "when", "where", "why",
        "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not",
        "only", "own", "same", "so", "than", "too", "very", "s", "t", "can", "will", "just", "don", "don't",
        "should", "should've", "now", "d", "ll", "m", "o", "re", "ve", "y", "ain", "aren", "aren't", "couldn",
        "couldn't", "didn", "didn't", "doesn", "doesn't", "hadn", "hadn't", "hasn", "hasn't", "haven", "haven't",
        "isn", "isn't", "ma", "mightn", "mightn't", "mustn", "mustn't", "needn", "needn't", "shan", "shan't",
        "shouldn", "shouldn't", "wasn", "wasn't", "weren", "weren't", "won", "won't", "wouldn", "wouldn't",
    ]
}

/// The 48-bit hash of a term (FNV-1a over its UTF-8 bytes, then splitmix64's finaliser, low 48
/// bits): for a million distinct terms about 0.002 colliding pairs are expected. Stored in
/// indexes: never change it.
public enum TermHash {
    public static func of(_ term: String) -> UInt64 { finalize(FNV1a.hash(term.utf8)) }

    /// The hash of a term whose FNV-1a state (`TokenTable.hash` of its bytes) is `h`.
    @inline(__always)
    static func finalize(_ h: UInt64) -> UInt64 {
        var h = h
        // splitmix64's finaliser
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return (h ^ (h >> 31)) & 0xFFFF_FFFF_FFFF
    }
}
