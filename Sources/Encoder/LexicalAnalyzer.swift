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

    private static let featurizer = Featurizer(maxTokenLength: 64, maxTokens: 20_000, bigrams: false)

    /// The terms of `text`, in order, with repetitions.
    public func terms(_ text: String) -> [String] {
        Self.featurizer.tokens(text, keepNumbers: true).compactMap { token in
            Self.stopWords.contains(token) ? nil : Self.stem(token)
        }
    }

    /// The hashes of `terms(text)`.
    public func termHashes(_ text: String) -> [UInt64] {
        terms(text).map(TermHash.of)
    }

    /// Harman's S stemmer.
    static func stem(_ token: String) -> String {
        let u = Array(token.utf8)
        guard u.count > 3, u.last == UInt8(ascii: "s") else { return token }
        func ends(_ suffix: String) -> Bool {
            let s = Array(suffix.utf8)
            return u.count >= s.count && Array(u.suffix(s.count)) == s
        }
        if ends("ies") && !ends("eies") && !ends("aies") { return String(decoding: u.dropLast(3) + [UInt8(ascii: "y")], as: UTF8.self) }
        if ends("es") && !ends("aes") && !ends("ees") && !ends("oes") { return String(decoding: u.dropLast(1), as: UTF8.self) }
        if ends("s") && !ends("us") && !ends("ss") { return String(decoding: u.dropLast(1), as: UTF8.self) }
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

/// The 64-bit hash of a term (FNV-1a over its UTF-8 bytes, then a 64-bit finaliser so that
/// nearby strings spread over the key space). Stored in indexes: never change it.
public enum TermHash {
    public static func of(_ term: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in term.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        // splitmix64's finaliser
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }
}
