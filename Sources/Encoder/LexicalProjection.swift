import Foundation

/// Shape of a model's query bits (`LexicalProjection`). Stored in the model file's header.
public struct ProjectionConfig: Codable, Equatable, Sendable {
    /// Query bits, appended after the trained bits of each code.
    public var bits: Int
    /// log2 of the number of hash buckets terms fall into.
    public var bucketBits: Int
    /// Seed of the random signs.
    public var seed: UInt64

    public init(bits: Int = 768, bucketBits: Int = 18, seed: UInt64 = 7) {
        self.bits = bits
        self.bucketBits = bucketBits
        self.seed = seed
    }

    /// Widths a model file may declare (the whole code stays within `ModelConfig.supportedBits`).
    public static let supportedBits = 64...1024
    public static let supportedBucketBits = 10...24
}

/// Query bits: random sign projections of a text's hashed TF-IDF vector (SimHash; Charikar,
/// STOC 2002), appended to the trained bits of a text model's codes.
///
/// The trained bits answer "more like this document" well and typed queries badly: a few words
/// binarised by a network trained on document-to-document similarity keep little of
/// themselves (Cranfield, codes alone: MAP 0.052). A random projection keeps every term,
/// including words no vocabulary holds: a text's terms (`LexicalAnalyzer`: stop words dropped,
/// plurals folded) are hashed into 2^`bucketBits` buckets, weighted by sublinear TF-IDF
/// (`(1 + ln c) x idf(bucket)`, scaled to unit length, as `Vocabulary.tfidf`), and multiplied by
/// a fixed +-1 matrix whose row for each bucket is generated from the seed (never stored); bit j
/// is 1 when the j-th projection is positive. A typed query scores a document's bits by the
/// asymmetric inner product of its own projections with them, which estimates the TF-IDF cosine
/// of the two texts with a variance falling as 1 / bits (docs/EVALUATION.md, "Query bits").
///
/// Only the IDF per bucket is learned (`fit`), from the training corpus. Deterministic and
/// thread-safe.
public struct LexicalProjection: Equatable, Sendable {
    public let config: ProjectionConfig
    /// IDF per bucket (`ln((1 + N) / (1 + df)) + 1`; a bucket no training text reached gets the
    /// highest, `ln(1 + N) + 1`: an unseen word is a rare one).
    public let idf: [Float]

    package init(config: ProjectionConfig, idf: [Float]) {
        precondition(idf.count == 1 << config.bucketBits && config.bits > 0)
        self.config = config
        self.idf = idf
    }

    public var bits: Int { config.bits }

    /// The bucket of a term.
    @inline(__always)
    package func bucket(_ term: String) -> Int { bucket(hash: TermHash.of(term)) }

    /// The bucket of a term's `TermHash`.
    @inline(__always)
    func bucket(hash: UInt64) -> Int { Self.bucket(hash: hash, bucketBits: config.bucketBits) }

    @inline(__always)
    static func bucket(hash: UInt64, bucketBits: Int) -> Int { Int(truncatingIfNeeded: hash) & ((1 << bucketBits) - 1) }

    /// The unit-length TF-IDF vector of the terms with these `TermHash`es over the buckets
    /// (`Vocabulary.tfidf`'s weighting), ascending by bucket.
    func weights(hashes: [UInt64]) -> SparseVector {
        Vocabulary.tfidf(indices: hashes.map { Int32(bucket(hash: $0)) }, idf: idf)
    }

    /// 64 signs of bucket `bucket`'s row, word `word` (bit set: +1): splitmix64 of the seed,
    /// bucket and word, so the matrix costs no memory.
    @inline(__always)
    func signs(bucket: Int, word: Int) -> UInt64 {
        var z = config.seed &+ UInt64(bucket) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(word) &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The `bits` projections of the terms with these `TermHash`es (zero for none), added to `out`.
    /// Eight signs at a time: each byte of a row's signs selects eight +-1 from `byteSigns`,
    /// added times the term's weight as one SIMD8 (`referenceLogits` is the plain loop).
    func addLogits(hashes: [UInt64], into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count == config.bits)
        let words = (config.bits + 63) / 64
        let fullBytes = config.bits / 8
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: (config.bits + 7) / 8) { acc in
            acc.initialize(repeating: .zero)
            Self.byteSigns.withUnsafeBufferPointer { table in
                let v = weights(hashes: hashes)
                for (b, w) in zip(v.indices, v.values) {
                    for word in 0..<words {
                        var s = signs(bucket: Int(b), word: word)
                        let base = word * 8
                        for k in 0 ..< min(8, acc.count - base) {
                            acc[base + k] += w * table[Int(truncatingIfNeeded: s & 0xff)]
                            s >>= 8
                        }
                    }
                }
            }
            for i in 0..<fullBytes { for l in 0..<8 { out[8 * i + l] += acc[i][l] } }
            for j in (8 * fullBytes)..<config.bits { out[j] += acc[fullBytes][j - 8 * fullBytes] }
        }
    }

    /// For each byte value, its eight bits (lowest first) as +1 (set) or -1.
    static let byteSigns: [SIMD8<Float>] = (0..<256).map { v in
        SIMD8<Float>((0..<8).map { (v >> $0) & 1 == 1 ? 1 : -1 })
    }

    /// The plain definition: the hashed TF-IDF times the sign matrix, one product at a time
    /// (the reference `addLogits` is tested against).
    package func referenceLogits(_ terms: [String]) -> [Float] {
        var out = [Float](repeating: 0, count: config.bits)
        let v = weights(hashes: terms.map(TermHash.of))
        for (b, w) in zip(v.indices, v.values) {
            for j in 0..<config.bits {
                out[j] += (signs(bucket: Int(b), word: j / 64) >> UInt64(j % 64)) & 1 == 1 ? w : -w
            }
        }
        return out
    }

    /// The projections of `terms` (LexicalAnalyzer's terms of a text).
    public func logits(_ terms: [String]) -> [Float] {
        var out = [Float](repeating: 0, count: config.bits)
        out.withUnsafeMutableBufferPointer { addLogits(hashes: terms.map(TermHash.of), into: $0) }
        return out
    }

    /// Learns the IDF per bucket from `documents` (each a text's terms).
    public static func fit(_ documents: some Sequence<[String]>, config: ProjectionConfig = ProjectionConfig()) -> LexicalProjection {
        var df = [Int32](repeating: 0, count: 1 << config.bucketBits)
        var n = 0
        for terms in documents {
            n += 1
            for b in Set(terms.map { bucket(hash: TermHash.of($0), bucketBits: config.bucketBits) }) { df[b] += 1 }
        }
        let idf = df.map { Float(log(Double(1 + n) / Double(1 + Int($0))) + 1) }
        return LexicalProjection(config: config, idf: idf)
    }
}
