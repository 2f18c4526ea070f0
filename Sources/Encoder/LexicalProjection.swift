import CInferenceKernels
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
    /// One word of 64 projections at a time, held in eight SIMD8 accumulators while every bucket
    /// adds its weight to them: each byte of the bucket's signs selects a mask that flips the sign
    /// bit of the weight where the sign is -1 (XOR: `w * -1` exactly, no multiplication). Each
    /// projection adds the same values in the same order as `referenceLogits`, so the results
    /// are equal to the last bit. The AVX2 build (`CInferenceKernels`) runs where the CPU has it.
    func addLogits(hashes: [UInt64], into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count == config.bits)
        let v = weights(hashes: hashes)
        guard PackedMatrix.avx2 else { return portableAddLogits(v, into: out) }
        v.indices.withUnsafeBufferPointer { buckets in
            v.values.withUnsafeBufferPointer { weights in
                tqi_sign_projections_avx2(buckets.baseAddress, weights.baseAddress, buckets.count, config.seed,
                                          (config.bits + 63) / 64, config.bits, out.baseAddress!)
            }
        }
    }

    /// `addLogits` in Swift from the hashed TF-IDF `v` (the reference of the AVX2 build in
    /// `CInferenceKernels`, which computes the same signs and sums, and the build that runs
    /// without AVX2).
    func portableAddLogits(_ v: SparseVector, into out: UnsafeMutableBufferPointer<Float>) {
        let bits = config.bits
        Self.negativeMasks.withUnsafeBufferPointer { masks in
            v.indices.withUnsafeBufferPointer { buckets in
                v.values.withUnsafeBufferPointer { weights in
                    for word in 0 ..< (bits + 63) / 64 {
                        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                        var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
                        for k in 0 ..< buckets.count {
                            let s = signs(bucket: Int(buckets[k]), word: word)
                            let w = SIMD8<UInt32>(repeating: weights[k].bitPattern)
                            @inline(__always) func signed(_ shift: UInt64) -> SIMD8<Float> {
                                unsafeBitCast(w ^ masks[Int(truncatingIfNeeded: (s >> shift) & 0xff)], to: SIMD8<Float>.self)
                            }
                            a0 += signed(0); a1 += signed(8); a2 += signed(16); a3 += signed(24)
                            a4 += signed(32); a5 += signed(40); a6 += signed(48); a7 += signed(56)
                        }
                        let lanes = [a0, a1, a2, a3, a4, a5, a6, a7]
                        for j in word * 64 ..< min(bits, word * 64 + 64) {
                            let i = j - word * 64
                            out[j] += lanes[i / 8][i % 8]
                        }
                    }
                }
            }
        }
    }

    /// For each byte value, lane i has the sign bit set where bit i is clear (a -1 sign).
    static let negativeMasks: [SIMD8<UInt32>] = (0..<256).map { v in
        SIMD8<UInt32>((0..<8).map { (v >> $0) & 1 == 1 ? 0 : 0x8000_0000 })
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
