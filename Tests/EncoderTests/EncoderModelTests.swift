import BinaryCodes
import Encoder
import Foundation
import TestSupport
import Testing

@Suite struct EncoderModelTests {
    /// The network computed the plain way, from the dequantised weights.
    func referenceLogits(_ model: EncoderModel, _ text: String) -> [Float] {
        let f = model.features(text)
        let w1 = model.layer1.dequantized(), w2 = model.layer2.dequantized()
        let h = model.config.hidden
        var hidden = model.bias1
        for (t, x) in zip(f.indices, f.values) { for j in 0..<h { hidden[j] += x * w1[Int(t) * h + j] } }
        hidden = hidden.map { max(0, $0) }
        return (0..<model.bits).map { b in (0..<h).reduce(model.bias2[b]) { $0 + w2[b * h + $1] * hidden[$1] } }
    }

    @Test(arguments: WeightFormat.allCases)
    func packedInferenceMatchesThePlainNetwork(format: WeightFormat) {
        let model = randomModel(bits: 40, hidden: 70, format: format)
        for text in ["NASA space shuttle launch into orbit", "the game: hockey team", "God, faith and the bible", "", "unknown words only"] {
            let fast = model.logits(model.features(text)), slow = referenceLogits(model, text)
            for (a, b) in zip(fast, slow) { #expect(abs(a - b) <= 1e-4 * max(1, abs(b))) }
            let code = model.encode(text)
            for b in 0..<model.bits where abs(slow[b]) > 1e-4 { #expect(code[bit: b] == (slow[b] > 0)) }
        }
    }

    @Test func batchEncodingEqualsOneByOneInOrder() {
        let model = randomModel()
        let texts = (0..<300).map { ["space orbit", "god bible", "car engine", "disk windows computer"][$0 % 4] + " \($0)" }
        #expect(model.encode(texts, threads: 2) == texts.map { model.encode($0) })
    }

    /// Golden codes: a seeded model and fixed texts must keep giving these codes; a change here
    /// means the featurizer or inference changed behaviour.
    @Test func goldenCodesStayTheSame() {
        let model = randomModel(bits: 32, hidden: 48, format: .ternary, seed: 1)
        let got = ["NASA launch of the space shuttle", "Hockey: the game tonight", "windows disk error"].map { model.encode($0).hex }
        #expect(got == Self.golden, "\(got)")
    }
    static let golden = ["cd047b95", "cc96fecf", "8d14f793"] // recorded 2026-11-29
}

@Suite struct ModelFileTests {
    @Test(arguments: WeightFormat.allCases)
    func roundTripsEveryFormat(format: WeightFormat) throws {
        let model = randomModel(bits: 24, hidden: 65, format: format)
        let back = try ModelFile.decode(try ModelFile.encode(model))
        #expect(back.config == model.config && back.vocabulary == model.vocabulary)
        #expect(back.layer1 == model.layer1 && back.layer2 == model.layer2)
        #expect(back.bias1 == model.bias1 && back.bias2 == model.bias2)
        #expect(try ModelFile.fingerprint(back) == (try ModelFile.fingerprint(model)))
    }

    @Test func damagedFilesAreNamedForWhatIsWrong() throws {
        let bytes = try ModelFile.encode(randomModel())
        #expect(throws: ModelFileError.truncated(path: "m", expected: bytes.count, actual: bytes.count - 10)) {
            try ModelFile.decode(Array(bytes.dropLast(10)), path: "m")
        }
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x40
        #expect(throws: ModelFileError.checksumMismatch(path: "m")) { try ModelFile.decode(flipped, path: "m") }
        var future = bytes
        future[8] = 9
        #expect(throws: ModelFileError.futureVersion(path: "m", found: 9, supported: ModelFile.version)) { try ModelFile.decode(future, path: "m") }
        #expect(ModelFile.version == 4) // 1: text models, 2: vector models, 3: two-layer vector models, 4: text models with query bits
        #expect(throws: ModelFileError.notAModel(path: "m")) { try ModelFile.decode(Array("hello world, not a model".utf8), path: "m") }
        #expect(throws: ModelFileError.notAModel(path: "m")) { try ModelFile.decode([], path: "m") }
    }

    @Test func differentModelsHaveDifferentFingerprints() throws {
        #expect(try ModelFile.fingerprint(randomModel(seed: 1)) != (try ModelFile.fingerprint(randomModel(seed: 2))))
        #expect(try ModelFile.fingerprint(randomModel(seed: 1)).hasPrefix("tqm-"))
    }
}
