import BinaryCodes
import Foundation

/// Shape and provenance of an encoder. Stored in the model file as JSON.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// Trained output bits (16 to 1024); a model with query bits (`projection`) has
    /// `bits + projection.bits` bits per code, the trained ones first.
    public var bits: Int
    /// Hidden units.
    public var hidden: Int
    /// Weight format of both layers.
    public var weights: WeightFormat
    /// Text to terms.
    public var featurizer: Featurizer
    /// How the model was made (free text: corpus, objective, seed, steps); shown by `model info`.
    public var provenance: [String: String]
    /// Query bits appended to the trained ones (`LexicalProjection`), or nil.
    public var projection: ProjectionConfig?

    public init(bits: Int, hidden: Int, weights: WeightFormat, featurizer: Featurizer = Featurizer(),
                provenance: [String: String] = [:]) {
        self.bits = bits
        self.hidden = hidden
        self.weights = weights
        self.featurizer = featurizer
        self.provenance = provenance
    }

    public static let supportedBits = 16...1024
    /// Hidden widths a model file may declare.
    public static let supportedHidden = 1...65_536
}

/// A trained text encoder: terms -> TF-IDF -> low-bit layer (V x H) -> ReLU -> low-bit layer
/// (H x B) -> B logits -> bits (bit b = 1 when logit b > 0); with query bits (`projection`), the
/// P projections of the text's hashed TF-IDF follow as bits B ..< B + P.
///
/// Inference runs from the packed weights (`PackedMatrix`); it is deterministic and
/// thread-safe (the model is immutable).
public struct EncoderModel: Sendable {
    public let config: ModelConfig
    package let vocabulary: Vocabulary
    /// Row t: the hidden-layer weights of vocabulary term t (V x H).
    package let layer1: PackedMatrix
    package let bias1: [Float]
    /// Row b: the weights of output bit b over the hidden units (B x H).
    package let layer2: PackedMatrix
    package let bias2: [Float]
    /// The query bits, or nil.
    public let projection: LexicalProjection?

    package init(config: ModelConfig, vocabulary: Vocabulary, layer1: PackedMatrix, bias1: [Float],
                layer2: PackedMatrix, bias2: [Float], projection: LexicalProjection? = nil) {
        precondition(layer1.rows == vocabulary.count && layer1.cols == config.hidden && bias1.count == config.hidden)
        precondition(layer2.rows == config.bits && layer2.cols == config.hidden && bias2.count == config.bits)
        precondition(config.projection == projection?.config)
        self.config = config
        self.vocabulary = vocabulary
        self.layer1 = layer1
        self.bias1 = bias1
        self.layer2 = layer2
        self.bias2 = bias2
        self.projection = projection
    }

    /// Bits per code: the trained bits, then the query bits.
    public var bits: Int { config.bits + (projection?.bits ?? 0) }

    /// The same model with query bits `projection` (replacing any it had), described in the
    /// provenance under "query_bits".
    public func withProjection(_ projection: LexicalProjection?, provenance: String? = nil) -> EncoderModel {
        var config = config
        config.projection = projection?.config
        config.provenance["query_bits"] = projection == nil ? nil : provenance
        return EncoderModel(config: config, vocabulary: vocabulary, layer1: layer1, bias1: bias1,
                            layer2: layer2, bias2: bias2, projection: projection)
    }

    /// TF-IDF features of `text`.
    package func features(_ text: String) -> SparseVector {
        features(tokens: config.featurizer.tokens(text))
    }

    /// TF-IDF features of the featurizer's `tokens` of a text.
    package func features(tokens: [String]) -> SparseVector {
        vocabulary.tfidf(indices: vocabulary.termIndices(tokens: tokens, bigrams: config.featurizer.bigrams))
    }

    /// The TF-IDF features of `text` and the `TermHash`es of its lexical terms, from one pass
    /// over it (`LexicalAnalyzer.analyze(_:featurizer:vocabulary:)`): equal to
    /// `features(tokens:)` of the featurizer's tokens and `LexicalAnalyzer.terms` hashed.
    package func analyze(_ text: String) -> (features: SparseVector, termHashes: [UInt64]) {
        let (hashes, indices) = LexicalAnalyzer().analyze(text, featurizer: config.featurizer, vocabulary: vocabulary)
        return (vocabulary.tfidf(indices: indices), hashes)
    }

    /// The hidden activations (after ReLU) for `features`, into `hidden` (paddedCols Floats).
    package func hiddenActivations(_ features: SparseVector, into hidden: UnsafeMutablePointer<Float>) {
        let padded = layer1.paddedCols
        hidden.update(repeating: 0, count: padded)
        for (t, x) in zip(features.indices, features.values) {
            layer1.addRow(Int(t), times: x, into: hidden)
        }
        for j in 0..<config.hidden { hidden[j] = max(0, hidden[j] + bias1[j]) }
        for j in config.hidden..<padded { hidden[j] = 0 }
    }

    /// The same model with `config.bits` query bits whose bucket IDFs are learned from `texts`
    /// (their `LexicalAnalyzer` terms), described in the provenance as coming from `source`.
    public func withQueryBits(fittedOn texts: some Sequence<String>, config: ProjectionConfig = ProjectionConfig(),
                              source: String) -> EncoderModel {
        let analyzer = LexicalAnalyzer()
        let projection = LexicalProjection.fit(texts.lazy.map { analyzer.terms($0) }, config: config)
        return withProjection(projection, provenance: "\(config.bits) signs of hashed TF-IDF, 2^\(config.bucketBits) buckets, seed \(config.seed), IDF from \(source)")
    }

    /// The trained bits' B logits for `features`.
    package func logits(_ features: SparseVector) -> [Float] {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: layer1.paddedCols) { hidden in
            hiddenActivations(features, into: hidden.baseAddress!)
            return (0..<config.bits).map { layer2.dot(row: $0, hidden.baseAddress!) + bias2[$0] }
        }
    }

    /// All `bits` logits: the trained bits' for `features`, then the query bits' projections of
    /// the terms with these `TermHash`es (the text's `LexicalAnalyzer` terms, as the lexical
    /// stage stores them; unused without query bits).
    package func logits(features: SparseVector, termHashes: [UInt64]) -> [Float] {
        var out = logits(features)
        if let projection {
            let trained = out.count
            out += [Float](repeating: 0, count: projection.bits)
            out.withUnsafeMutableBufferPointer { projection.addLogits(hashes: termHashes, into: UnsafeMutableBufferPointer(rebasing: $0[trained...])) }
        }
        return out
    }

    /// The code for `features` and (with query bits) the terms with these `TermHash`es.
    package func encode(features: SparseVector, termHashes: [UInt64]) -> BinaryCode {
        Self.code(logits: logits(features: features, termHashes: termHashes))
    }

    /// The code whose bit b is 1 when `logits[b] > 0`.
    package static func code(logits: [Float]) -> BinaryCode {
        var words = [UInt64](repeating: 0, count: BinaryCode.wordCount(bits: logits.count))
        for (b, v) in logits.enumerated() where v > 0 { words[b / 64] |= 1 << UInt64(b % 64) }
        return try! BinaryCode(bits: logits.count, words: words)
    }

    /// Share of the texts' tokens (words, as the featurizer splits them) that the vocabulary
    /// holds: how much of a corpus the codes can see. 0 for texts without tokens.
    public func tokenCoverage(_ texts: some Sequence<String>) -> Double {
        var known = 0, total = 0
        let featurizer = config.featurizer, lookup = vocabulary.tokens
        for text in texts where featurizer.maxTokens > 0 {
            var count = 0
            // The featurizer's tokens (`Featurizer.tokens`), looked up by their bytes.
            Featurizer.scanBytes(text, maxLength: featurizer.maxTokenLength) { token, length, allDigits, ascii in
                guard !(allDigits && length > 4) else { return true }
                count += 1
                if let id = lookup.id(token, hash: ascii ? TokenTable.hash(token) : 0, ascii: ascii), lookup.isUnigram(id) { known += 1 }
                return count < featurizer.maxTokens
            }
            total += count
        }
        return total > 0 ? Double(known) / Double(total) : 0
    }

    /// `tokenCoverage` from strings: the featurizer's tokens looked up in the vocabulary (the
    /// reference the byte path is tested against).
    package func referenceTokenCoverage(_ texts: some Sequence<String>) -> Double {
        var known = 0, total = 0
        for text in texts {
            let tokens = config.featurizer.tokens(text)
            total += tokens.count
            known += vocabulary.termIndices(tokens: tokens, bigrams: false).count
        }
        return total > 0 ? Double(known) / Double(total) : 0
    }

    /// The code for `text`. Empty text, or text with no known term, gives the code of the
    /// all-zero feature vector (the biases alone; query bits all 0).
    public func encode(_ text: String) -> BinaryCode {
        let (features, hashes) = analyze(text)
        return encode(features: features, termHashes: hashes)
    }

    /// Codes for many texts, on `threads` threads (default: all cores), in input order.
    public func encode(_ texts: [String], threads: Int = SearchOptions.onlineCores) -> [BinaryCode] {
        var out = [BinaryCode?](repeating: nil, count: texts.count)
        let workers = max(1, min(threads, texts.count / 64))
        out.withUnsafeMutableBufferPointer { buffer in
            parallelFor(iterations: workers) { w in
                for i in stride(from: w, to: texts.count, by: workers) { buffer[i] = encode(texts[i]) }
            }
        }
        return out.map { $0! }
    }

    /// Size of the packed weights, scales and biases in bytes.
    public var weightBytes: Int { layer1.byteCount + layer2.byteCount + 4 * (bias1.count + bias2.count) + 4 * (projection?.idf.count ?? 0) }
}
