import BinaryCodes
import Foundation

/// How a vector encoder's projection was made.
public enum VectorMethod: String, Codable, CaseIterable, Sendable {
    /// Bit j = sign of dimension j (needs bits = dimensions); sentence-transformers' "ubinary".
    case sign
    /// Signs of a seeded random rotation (orthonormal rows when bits <= dimensions, Gaussian
    /// rows beyond).
    case rotation
    /// Iterative quantisation (Gong and Lazebnik): PCA to `bits` directions, then the rotation
    /// that best aligns them with the corners of the hypercube (needs bits <= dimensions).
    case itq
    /// Trained by quantisation-aware training so that Hamming ranking follows the float
    /// ranking (see Training's `VectorTrainer`).
    case trained
}

/// The similarity the codes stand in for.
public enum VectorMetric: String, Codable, CaseIterable, Sendable {
    /// Cosine: inputs are L2-normalised before encoding and rescoring.
    case cosine
    /// Inner product: inputs are used as given.
    case dot
}

/// Shape and provenance of a vector encoder, stored in its model file as JSON.
public struct VectorModelConfig: Codable, Equatable, Sendable {
    public var dimensions: Int
    public var bits: Int
    public var weights: WeightFormat
    public var method: VectorMethod
    public var metric: VectorMetric
    /// Width of the first of two low-bit layers (`hidden x dimensions`, no bias, no
    /// nonlinearity), or nil for one layer. Absent from the files of one-layer models, so
    /// they keep their bytes.
    public var hidden: Int?
    public var provenance: [String: String]

    public init(dimensions: Int, bits: Int, weights: WeightFormat, method: VectorMethod,
                metric: VectorMetric = .cosine, hidden: Int? = nil, provenance: [String: String] = [:]) {
        self.dimensions = dimensions
        self.bits = bits
        self.weights = weights
        self.method = method
        self.metric = metric
        self.hidden = hidden
        self.provenance = provenance
    }

    public static let supportedBits = 8...4096
    public static let supportedDimensions = 1...65_536
    public static let supportedHidden = 1...65_536

    /// The input width of the layer that gives the bits: `hidden`, or `dimensions`.
    public var projectionInputs: Int { hidden ?? dimensions }
}

/// A float vector to binary code encoder: (normalise for cosine) -> one low-bit linear layer
/// (bits x dimensions, packed) plus a bias -> bit j = 1 when logit j > 0.
///
/// Optionally (by default for trained models) the projection is the product of two low-bit
/// layers: `hiddenLayer` (hidden x dimensions) gives float activations h = W1 x, and
/// `projection` (bits x hidden) the logits W2 h + b. The product stays linear; it exists
/// because a product of two ternary matrices approximates a float projection far better than
/// one ternary matrix does (docs/VECTORS.md).
///
/// The baselines (sign, random rotation, ITQ) are encoders of the same form with `float`
/// weights, so every method goes through the same code path, file format and index.
/// Immutable and thread-safe.
public struct VectorEncoderModel: Sendable {
    public let config: VectorModelConfig
    /// Row j: the weights of bit j over the projection's inputs (the input dimensions, or the
    /// hidden activations of a two-layer model).
    package let projection: PackedMatrix
    package let bias: [Float]
    /// The first layer of a two-layer model (`hidden x dimensions`), else nil.
    package let hiddenLayer: PackedMatrix?

    package init(config: VectorModelConfig, projection: PackedMatrix, bias: [Float], hiddenLayer: PackedMatrix? = nil) {
        precondition(projection.rows == config.bits && projection.cols == config.projectionInputs && bias.count == config.bits)
        precondition(hiddenLayer.map { $0.rows == config.hidden && $0.cols == config.dimensions } ?? (config.hidden == nil))
        self.config = config
        self.projection = projection
        self.bias = bias
        self.hiddenLayer = hiddenLayer
    }

    public var bits: Int { config.bits }
    public var dimensions: Int { config.dimensions }

    /// Floats of scratch space `logits(_:scratch:)` needs: the padded input, the padded hidden
    /// activations of a two-layer model, a subset-sum table (ternary layers), the logits.
    var scratchCount: Int {
        let hiddenCount = hiddenLayer == nil ? 0 : projection.paddedCols
        let inputCount = hiddenLayer?.paddedCols ?? projection.paddedCols
        let table = format == .ternary ? max(hiddenLayer?.subsetSumCount ?? 0, projection.subsetSumCount) : 0
        return inputCount + hiddenCount + table + bits
    }

    private var format: WeightFormat { projection.format }

    /// `out[r]` = row r of `layer` times `x` (`layer.paddedCols` Floats, zero past `cols`), for
    /// every row; ternary layers go through one subset-sum table in `table`.
    @inline(__always)
    private func products(_ layer: PackedMatrix, _ x: UnsafePointer<Float>, table: UnsafeMutablePointer<Float>,
                          into out: UnsafeMutablePointer<Float>) {
        if layer.format == .ternary {
            layer.subsetSums(x, into: table)
            for r in 0..<layer.rows { out[r] = layer.ternaryDot(row: r, subsetSums: table) }
        } else {
            for r in 0..<layer.rows { out[r] = layer.dot(row: r, x) }
        }
    }

    /// The logits of `vector` (normalised for cosine, through the hidden layer of a two-layer
    /// model), in `scratch` (`scratchCount` Floats); returns where they are.
    @inline(__always)
    func logits(_ vector: UnsafeBufferPointer<Float>, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        let d = config.dimensions
        var scale: Float = 1
        if config.metric == .cosine {
            var norm: Float = 0
            for v in vector { norm += v * v }
            scale = norm > 0 ? 1 / norm.squareRoot() : 1
        }
        let inputCount = hiddenLayer?.paddedCols ?? projection.paddedCols
        for i in 0..<d { scratch[i] = vector[i] * scale }
        for i in d..<inputCount { scratch[i] = 0 }
        var x = UnsafePointer(scratch)
        var next = scratch + inputCount
        if let hiddenLayer {
            let h = next
            next += projection.paddedCols
            products(hiddenLayer, x, table: next + bits, into: h)
            for i in hiddenLayer.rows..<projection.paddedCols { h[i] = 0 }
            x = UnsafePointer(h)
        }
        let z = next
        products(projection, x, table: next + bits, into: z)
        for j in 0..<bits { z[j] += bias[j] }
        return UnsafePointer(z)
    }

    /// The logits for one vector of `dimensions` Floats.
    public func logits(_ vector: [Float]) -> [Float] {
        precondition(vector.count == dimensions, "vector has \(vector.count) dimensions, the model \(dimensions)")
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
            let z = vector.withUnsafeBufferPointer { logits($0, scratch: scratch.baseAddress!) }
            return Array(UnsafeBufferPointer(start: z, count: bits))
        }
    }

    /// Encodes `vector` (a buffer of `dimensions` Floats) into `words`, with `scratchCount`
    /// Floats of scratch space.
    func encode(_ vector: UnsafeBufferPointer<Float>, scratch: UnsafeMutablePointer<Float>, into words: UnsafeMutablePointer<UInt64>) {
        let z = logits(vector, scratch: scratch)
        let wordCount = BinaryCode.wordCount(bits: bits)
        words.update(repeating: 0, count: wordCount)
        for j in 0..<bits where z[j] > 0 {
            words[j / 64] |= 1 << UInt64(j % 64)
        }
    }

    /// The codes of every row of `set` with their logits, one row at a time: for callers that
    /// need both (the asymmetric shortlist), at the cost of one pass. Row i's code equals
    /// `encode(set.row(i))`: bit j is set when logit j > 0.
    public func codesAndLogits(_ set: VectorSet) -> (codes: CodeMatrix, logits: [[Float]]) {
        precondition(set.dimensions == dimensions, "vectors have \(set.dimensions) dimensions, the model \(dimensions)")
        let wordCount = BinaryCode.wordCount(bits: bits)
        var words = [UInt64](repeating: 0, count: set.count * wordCount)
        let logits = (0..<set.count).map { i -> [Float] in
            let z = self.logits(set.row(i))
            for j in 0..<bits where z[j] > 0 { words[i * wordCount + j / 64] |= 1 << UInt64(j % 64) }
            return z
        }
        return (try! CodeMatrix(bits: bits, words: words), logits)
    }

    /// The code of one vector.
    /// - Precondition: `vector.count == dimensions` (check input with `VectorFile` or
    ///   `checkVector` first).
    public func encode(_ vector: [Float]) -> BinaryCode {
        precondition(vector.count == dimensions, "vector has \(vector.count) dimensions, the model \(dimensions)")
        var words = [UInt64](repeating: 0, count: BinaryCode.wordCount(bits: bits))
        withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { x in
            vector.withUnsafeBufferPointer { v in words.withUnsafeMutableBufferPointer { encode(v, scratch: x.baseAddress!, into: $0.baseAddress!) } }
        }
        return try! BinaryCode(bits: bits, words: words)
    }

    /// The codes of every row of `set`, as a matrix, on `threads` threads, in row order.
    public func encode(_ set: VectorSet, threads: Int = SearchOptions.onlineCores) -> CodeMatrix {
        precondition(set.dimensions == dimensions, "vectors have \(set.dimensions) dimensions, the model \(dimensions)")
        let n = set.count, wordCount = BinaryCode.wordCount(bits: bits)
        var words = [UInt64](repeating: 0, count: n * wordCount)
        let workers = max(1, min(threads, n / 256))
        set.values.withUnsafeBufferPointer { values in
            words.withUnsafeMutableBufferPointer { out in
                let outBase = out.baseAddress!
                parallelFor(iterations: workers) { w in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { x in
                        for i in (n * w / workers) ..< (n * (w + 1) / workers) {
                            encode(UnsafeBufferPointer(rebasing: values[i * dimensions ..< (i + 1) * dimensions]),
                                   scratch: x.baseAddress!, into: outBase + i * wordCount)
                        }
                    }
                }
            }
        }
        return try! CodeMatrix(bits: bits, words: words)
    }

    /// Checks a query or database vector: right length, every value finite.
    /// - Throws: `VectorFileError.wrongDimensions` or `.notFinite`, labelled with `label` and `row`.
    public func checkVector(_ vector: [Float], label: String = "vector", row: Int = 0) throws {
        guard vector.count == dimensions else {
            throw VectorFileError.wrongDimensions(path: label, row: row, expected: dimensions, found: vector.count)
        }
        if let bad = vector.firstIndex(where: { !$0.isFinite }) {
            throw VectorFileError.notFinite(path: label, row: row, column: bad)
        }
    }

    /// Bytes of the packed layers, their scales and the bias.
    public var weightBytes: Int { projection.byteCount + (hiddenLayer?.byteCount ?? 0) + 4 * bias.count }
}
