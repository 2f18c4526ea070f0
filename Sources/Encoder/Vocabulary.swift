import Foundation

/// A document as weighted vocabulary terms: ascending term indices and their weights.
public struct SparseVector: Equatable, Sendable {
    public var indices: [Int32]
    public var values: [Float]

    public init(indices: [Int32] = [], values: [Float] = []) {
        precondition(indices.count == values.count)
        self.indices = indices
        self.values = values
    }

    public var isEmpty: Bool { indices.isEmpty }
}

/// The terms a model knows, with their inverse document frequencies, learned from a corpus.
///
/// Weighting (the "sublinear TF-IDF" of Manning et al., 6.4.1): term t with count c in a
/// document gets `(1 + ln c) * idf(t)`, `idf(t) = ln((1 + N) / (1 + df(t))) + 1`; the vector
/// is then scaled to unit length. Terms outside the vocabulary are ignored.
public struct Vocabulary: Equatable, Sendable {
    /// Terms, by index.
    public let terms: [String]
    /// IDF per term.
    public let idf: [Float]
    private let index: [String: Int32]
    /// The lookups of `termIndices(tokens:bigrams:)`, from a token's string or its bytes
    /// (`LexicalAnalyzer.analyze(_:featurizer:vocabulary:)`).
    package let tokens: VocabularyTokens

    public init(terms: [String], idf: [Float]) {
        precondition(terms.count == idf.count)
        self.terms = terms
        self.idf = idf
        var index = [String: Int32](minimumCapacity: terms.count)
        for (i, t) in terms.enumerated() { index[t] = Int32(i) }
        self.index = index
        // A token's id: its term's index (the last of equal terms), else, for a part of a bigram
        // term "a_b" that is no term itself, an id past them. (Tokens never contain "_".)
        var parts: [String: Int32] = [:], partNames: [String] = []
        var beginsBigram = [Bool](repeating: false, count: terms.count)
        var pairs: [UInt64: Int32] = [:]
        for (i, t) in terms.enumerated() {
            guard let cut = t.utf8.firstIndex(of: UInt8(ascii: "_")) else { continue } // a UTF-8 scan: far cheaper than Characters
            var ids: [Int32] = []
            for part in [String(t[..<cut]), String(t[t.utf8.index(after: cut)...])] {
                if let known = index[part] ?? parts[part] { ids.append(known); continue }
                let new = Int32(terms.count + partNames.count)
                parts[part] = new
                partNames.append(part)
                beginsBigram.append(false)
                ids.append(new)
            }
            beginsBigram[Int(ids[0])] = true
            pairs[UInt64(ids[0]) << 32 | UInt64(ids[1])] = Int32(i)  // the last of equal bigrams
        }
        let entries = terms.map { (key: $0, value: index[$0]!) } + partNames.map { (key: $0, value: parts[$0]!) }
        tokens = VocabularyTokens(table: TokenTable(entries), terms: index, parts: parts, termCount: terms.count,
                                  beginsBigram: beginsBigram, pairs: PairTable(pairs.map { ($0.key, $0.value) }))
    }

    public var count: Int { terms.count }

    public static func == (a: Vocabulary, b: Vocabulary) -> Bool { a.terms == b.terms && a.idf == b.idf }

    /// Index of `term`, or nil.
    public func index(of term: String) -> Int32? { index[term] }

    /// Raw counts of known terms in `terms`, as (index, count), ascending by index.
    public func counts(_ terms: [String]) -> [(Int32, Float)] {
        var counts: [Int32: Float] = [:]
        for t in terms { if let i = index[t] { counts[i, default: 0] += 1 } }
        return counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Indices of the known unigrams of `tokens` and, with `bigrams`, of their known adjacent
    /// pairs, with repetitions, in no particular order. Equals looking up `Featurizer.terms`
    /// (a test holds it to that).
    public func termIndices(tokens: [String], bigrams: Bool) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(tokens.count * (bigrams ? 2 : 1))
        var previous: Int32 = -1
        for token in tokens {
            self.tokens.appendTermIndices(token: self.tokens.id(token), bigrams: bigrams, previous: &previous, into: &out)
        }
        return out
    }

    /// The unit-length TF-IDF vector of the given term indices (with repetitions).
    public func tfidf(indices: [Int32]) -> SparseVector { Self.tfidf(indices: indices, idf: idf) }

    /// The unit-length sublinear TF-IDF vector of `indices` (with repetitions) under `idf`
    /// (one per index): the vocabulary's terms, or `LexicalProjection`'s hash buckets.
    static func tfidf(indices: [Int32], idf: [Float]) -> SparseVector {
        guard !indices.isEmpty else { return SparseVector() }
        let sorted = ascending(indices)
        var idx: [Int32] = [], values: [Float] = []
        idx.reserveCapacity(sorted.count)
        values.reserveCapacity(sorted.count)
        var run = 0
        for k in 0..<sorted.count {
            run += 1
            if k == sorted.count - 1 || sorted[k + 1] != sorted[k] {
                idx.append(sorted[k])
                values.append((1 + log(Float(run))) * idf[Int(sorted[k])])
                run = 0
            }
        }
        let norm = sqrt(values.reduce(0) { $0 + $1 * $1 })
        if norm > 0 { for i in values.indices { values[i] /= norm } }
        return SparseVector(indices: idx, values: values)
    }

    /// `values` (each at least 0) in ascending order, equal to `values.sorted()`: a
    /// least-significant-digit radix sort in as few passes of at most 11 bits as the largest
    /// value needs (two for a vocabulary's 20,000 terms or the query bits' 2^18 buckets), and an
    /// insertion sort for 32 values or fewer. The library's comparison sort took a tenth of
    /// encoding a 20 Newsgroups message (docs/BENCHMARKS.md).
    static func ascending(_ values: [Int32]) -> [Int32] {
        var a = values
        let n = a.count
        if n <= 32 {
            for i in 1 ..< max(1, n) {
                let v = a[i]
                var j = i
                while j > 0 && a[j - 1] > v { a[j] = a[j - 1]; j -= 1 }
                a[j] = v
            }
            return a
        }
        var largest: Int32 = 0
        for v in a {
            precondition(v >= 0, "term indices are not negative")
            largest = max(largest, v)
        }
        let width = Int32.bitWidth - largest.leadingZeroBitCount
        guard width > 0 else { return a }
        let passes = (width + 10) / 11, digit = (width + passes - 1) / passes
        var b = [Int32](repeating: 0, count: n)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 1 << digit) { counts in
            a.withUnsafeMutableBufferPointer { pa in
                b.withUnsafeMutableBufferPointer { pb in
                    var (source, target) = (pa, pb)
                    let mask = Int32(1 << digit - 1)
                    for pass in 0 ..< passes {
                        let shift = Int32(pass * digit)
                        counts.initialize(repeating: 0)
                        for v in source { counts[Int((v >> shift) & mask)] += 1 }
                        var offset = 0
                        for d in 0 ..< counts.count { (counts[d], offset) = (offset, offset + counts[d]) }
                        for v in source {
                            let d = Int((v >> shift) & mask)
                            target[counts[d]] = v
                            counts[d] += 1
                        }
                        swap(&source, &target)
                    }
                    if passes % 2 == 1 { _ = pa.update(fromContentsOf: pb) }
                }
            }
        }
        return a
    }

    /// The unit-length TF-IDF vector of `terms` (empty when no term is known).
    public func tfidf(_ terms: [String]) -> SparseVector {
        let counts = counts(terms)
        var values = counts.map { (1 + log($0.1)) * idf[Int($0.0)] }
        let norm = sqrt(values.reduce(0) { $0 + $1 * $1 })
        if norm > 0 { values = values.map { $0 / norm } }
        return SparseVector(indices: counts.map(\.0), values: values)
    }

    /// Builds a vocabulary from tokenised documents: terms with document frequency of at least
    /// `minDocumentFrequency` and in at most `maxDocumentRatio` of the documents; of those, the
    /// unigrams first and then the bigrams ("a_b"), each by falling document frequency (ties
    /// broken by the term's text, so the result is deterministic), until there are `size`.
    ///
    /// Unigrams come first because bigrams ranked with them by frequency crowd them out: on
    /// 20 Newsgroups a 10,000-term vocabulary of both scored 0.440 precision@100 at 64 bits,
    /// one of unigrams only 0.560 (docs/EVALUATION.md). Bigrams only fill the places that
    /// unigrams leave, which helps small corpora such as Reuters.
    public static func build(documents: [[String]], size: Int, minDocumentFrequency: Int = 3,
                             maxDocumentRatio: Double = 0.5) -> Vocabulary {
        var df: [String: Int] = [:]
        for doc in documents {
            for t in Set(doc) { df[t, default: 0] += 1 }
        }
        let n = documents.count
        let maxDF = Int(Double(n) * maxDocumentRatio)
        let kept = df.filter { $0.value >= minDocumentFrequency && $0.value <= maxDF }
            .map { (term: $0.key, df: $0.value, bigram: $0.key.contains("_")) }
            .sorted { a, b in
                if a.bigram != b.bigram { return !a.bigram }
                return a.df != b.df ? a.df > b.df : a.term < b.term
            }
            .prefix(size)
        let terms = kept.map(\.term)
        let idf = kept.map { Float(log(Double(1 + n) / Double(1 + $0.df)) + 1) }
        return Vocabulary(terms: terms, idf: idf)
    }
}

/// A vocabulary's terms looked up from a token, as a string or as bytes: every term and every
/// part of a bigram term is a token with an id (a term's id is its index; a part that is no
/// term gets one past them), and a bigram is found by the pair of its parts' ids. A class, so
/// that the analyzer's per-token closure holds one reference (capturing the `Vocabulary`
/// struct copied all of its arrays per token).
package final class VocabularyTokens: Sendable {
    private let table: TokenTable
    /// Term -> index, and bigram parts that are no term -> their ids (past the terms).
    private let terms: [String: Int32]
    private let parts: [String: Int32]
    private let termCount: Int
    private let beginsBigram: [Bool]
    private let pairs: PairTable

    init(table: TokenTable, terms: [String: Int32], parts: [String: Int32], termCount: Int, beginsBigram: [Bool], pairs: PairTable) {
        self.table = table
        self.terms = terms
        self.parts = parts
        self.termCount = termCount
        self.beginsBigram = beginsBigram
        self.pairs = pairs
    }

    /// The id of a token; nil when no term holds it.
    func id(_ token: String) -> Int32? { terms[token] ?? parts[token] }

    /// The id of a token from its bytes and their `TokenTable.hash`; nil when no term holds it.
    /// An ASCII token is found by its bytes; any other as a `String` (canonical equivalence), as
    /// `id(_:)` finds it.
    @inline(__always)
    func id(_ token: UnsafeBufferPointer<UInt8>, hash: UInt64, ascii: Bool) -> Int32? {
        ascii ? table.index(of: token, hash: hash) : id(String(decoding: token, as: UTF8.self))
    }

    /// Whether the token with id `id` is a unigram term.
    @inline(__always)
    func isUnigram(_ id: Int32) -> Bool { Int(id) < termCount }

    /// Follows `termIndices(tokens:bigrams:)` one token at a time: appends the index of the
    /// token with id `id` (nil: unknown) and, with `bigrams`, of the bigram it ends, to `out`;
    /// `previous` carries the last token's id when it begins a bigram, else -1.
    @inline(__always)
    func appendTermIndices(token id: Int32?, bigrams: Bool, previous: inout Int32, into out: inout [Int32]) {
        guard let id else { previous = -1; return }
        if Int(id) < termCount { out.append(id) }
        if bigrams {
            if previous >= 0, let b = pairs.value(for: UInt64(previous) << 32 | UInt64(id)) { out.append(b) }
            previous = beginsBigram[Int(id)] ? id : -1
        }
    }
}
