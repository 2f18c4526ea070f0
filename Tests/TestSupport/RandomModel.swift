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
