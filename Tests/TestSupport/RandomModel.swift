import Foundation
import BinaryCodes
import Encoder

/// A model with seeded random weights over a small fixed vocabulary: for inference, file and
/// CLI tests that need a model but not a trained one.
public func randomModel(bits: Int = 32, hidden: Int = 48, format: WeightFormat = .ternary, seed: UInt64 = 1) -> EncoderModel {
    let terms = ["space", "nasa", "orbit", "launch", "god", "church", "bible", "faith", "car", "engine",
                 "hockey", "game", "team", "computer", "disk", "windows", "gun", "law", "doctor", "pain",
                 "space_shuttle", "the_game"]
    var rng = SeededGenerator(seed: seed)
    func gaussian() -> Float {
        let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-12), u2 = Double(rng.next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
    let v = terms.count
    let idf = (0..<v).map { 1 + Float($0 % 5) / 4 }
    let w1 = (0..<(v * hidden)).map { _ in gaussian() }
    let w2 = (0..<(bits * hidden)).map { _ in gaussian() }
    return EncoderModel(
        config: ModelConfig(bits: bits, hidden: hidden, weights: format, provenance: ["test": "random"]),
        vocabulary: Vocabulary(terms: terms, idf: idf),
        layer1: PackedMatrix(quantizing: w1, rows: v, cols: hidden, format: format),
        bias1: (0..<hidden).map { _ in gaussian() * 0.1 },
        layer2: PackedMatrix(quantizing: w2, rows: bits, cols: hidden, format: format),
        bias2: (0..<bits).map { _ in gaussian() * 0.1 })
}

/// `count` seeded vectors of `dimensions` around `clusters` random centres (unit Gaussian
/// centres, noise of deviation `noise`): data with neighbourhood structure for vector tests.
public func clusteredVectors(count: Int, dimensions: Int, clusters: Int = 8, noise: Float = 0.6, seed: UInt64 = 1) -> VectorSet {
    var rng = SeededGenerator(seed: seed)
    func gaussian() -> Float {
        let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-12), u2 = Double(rng.next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
    // Centres in a low-dimensional subspace, so PCA-based methods have structure to find.
    let basis = (0..<(4 * dimensions)).map { _ in gaussian() }
    let centres = (0..<clusters).map { _ -> [Float] in
        let coefficients = (0..<4).map { _ in gaussian() }
        return (0..<dimensions).map { i in (0..<4).reduce(Float(0)) { $0 + coefficients[$1] * basis[$1 * dimensions + i] } }
    }
    var values: [Float] = []
    values.reserveCapacity(count * dimensions)
    for i in 0..<count {
        let c = centres[i % clusters]
        for j in 0..<dimensions { values.append(c[j] + noise * 2 * gaussian()) }
    }
    return VectorSet(dimensions: dimensions, values: values)
}

/// A vector encoder with seeded Gaussian weights (random hyperplanes): for index, file and CLI
/// tests that need a vector model but not a trained one.
public func randomVectorModel(dimensions: Int, bits: Int, format: WeightFormat = .ternary, metric: VectorMetric = .cosine,
                              seed: UInt64 = 1) -> VectorEncoderModel {
    let weights = clusteredVectors(count: bits, dimensions: dimensions, clusters: 1, noise: 1, seed: seed ^ 0x77).values
    let config = VectorModelConfig(dimensions: dimensions, bits: bits, weights: format, method: .rotation, metric: metric,
                                   provenance: ["test": "random"])
    return VectorEncoderModel(config: config, projection: PackedMatrix(quantizing: weights, rows: bits, cols: dimensions, format: format),
                              bias: [Float](repeating: 0, count: bits))
}
