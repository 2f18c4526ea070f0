import BinaryCodes
import Encoder
import Foundation
import TestSupport
import Testing

@Suite struct LexicalProjectionTests {
    static let corpus = [
        "the space shuttle launch was delayed by the weather over the launch pad",
        "orbital mechanics of satellites and the shuttle's orbit",
        "the hockey team won the game in overtime",
        "church services and the bible reading on sunday",
        "valgrind memcheck reports an invalid read in the parser",
        "engine oil and the car's transmission",
    ]
    static let analyzer = LexicalAnalyzer()

    static func projection(bits: Int = 200, bucketBits: Int = 12) -> LexicalProjection {
        LexicalProjection.fit(corpus.map { analyzer.terms($0) }, config: ProjectionConfig(bits: bits, bucketBits: bucketBits, seed: 3))
    }

    @Test(arguments: [64, 200, 768])
    func fastProjectionEqualsThePlainProduct(bits: Int) {
        let p = Self.projection(bits: bits)
        for text in Self.corpus + ["", "a word never seen: zyxqv", "launch launch launch orbit"] {
            let terms = Self.analyzer.terms(text)
            // Same additions in the same order: equal to the last bit, on any CPU.
            #expect(p.logits(terms) == p.referenceLogits(terms), "\(text)")
        }
        #expect(p.logits([]).allSatisfy { $0 == 0 })
    }

    @Test func idfIsLearnedPerBucketAndUnseenBucketsAreRarest() {
        let p = Self.projection()
        let n = Float(Self.corpus.count)
        let shuttle = p.bucket("shuttle"), hockey = p.bucket("hockey"), unseen = p.bucket("zyxqv")
        #expect(abs(p.idf[shuttle] - (log((1 + n) / 3) + 1)) < 1e-5)  // in 2 of 6 texts
        #expect(abs(p.idf[hockey] - (log((1 + n) / 2) + 1)) < 1e-5)   // in 1
        #expect(abs(p.idf[unseen] - (log(1 + n) + 1)) < 1e-5)
        #expect(p.idf.count == 1 << 12)
    }

    /// The asymmetric score (query projections against document signs) estimates the TF-IDF
    /// cosine: a query's own document, even through a word no vocabulary holds, scores above
    /// the others.
    @Test func aQueryScoresTheDocumentsHoldingItsWordsFirst() throws {
        let p = Self.projection(bits: 768)
        let docs = Self.corpus.map { text in p.logits(Self.analyzer.terms(text)).map { $0 > 0 ? Float(1) : -1 } }
        for (query, expected) in [("valgrind memcheck", 4), ("shuttle launch", 0), ("hockey overtime", 2), ("bible", 3)] {
            let q = p.logits(Self.analyzer.terms(query))
            let scores = docs.map { d in zip(q, d).reduce(0) { $0 + $1.0 * $1.1 } }
            #expect(scores.indices.max { scores[$0] < scores[$1] } == expected, "\(query): \(scores)")
        }
    }

    @Test func aModelWithQueryBitsEncodesBothPartsAndRoundTrips() throws {
        let base = randomModel(bits: 32, hidden: 48)
        let p = Self.projection(bits: 96, bucketBits: 10)
        let model = base.withProjection(p, provenance: "test")
        #expect(model.bits == 128 && model.config.bits == 32 && model.config.provenance["query_bits"] == "test")
        let text = "the space shuttle launch, valgrind and the game"
        let code = model.encode(text), trained = base.encode(text)
        let projected = p.logits(Self.analyzer.terms(text))
        for b in 0..<32 { #expect(code[bit: b] == trained[bit: b]) }
        for j in 0..<96 where projected[j] != 0 { #expect(code[bit: 32 + j] == (projected[j] > 0)) }
        #expect(model.encode([text, "hockey"], threads: 2) == [code, model.encode("hockey")])

        // Version 4 holds the bucket IDFs; a model without query bits stays version 1, byte for byte.
        let bytes = try ModelFile.encode(model)
        let baseBytes = try ModelFile.encode(base)
        #expect(bytes[8] == 4 && baseBytes[8] == 1)
        let read = try ModelFile.decode(bytes, path: "m")
        #expect(read.projection == p && read.encode(text) == code && read.config == model.config)
        #expect(try ModelFile.encode(read.withProjection(nil)) == baseBytes)
    }

    @Test func inconsistentQueryBitsAreMalformed() throws {
        let model = randomModel(bits: 32, hidden: 48).withProjection(Self.projection(bits: 96, bucketBits: 10))
        var bytes = try ModelFile.encode(model)
        // Version 1 with query bits in the header: refused, not misread.
        bytes[8] = 1
        let length = bytes.count
        bytes.replaceSubrange((length - 4)..., with: withUnsafeBytes(of: CRC32.checksum(bytes[0 ..< length - 4]).littleEndian, Array.init))
        #expect(throws: ModelFileError.malformed(path: "m", detail: "query bits in a version 1 model")) { try ModelFile.decode(bytes, path: "m") }
        // Too wide in all: 1,000 trained bits cannot take 96 more.
        let wide = randomModel(bits: 1000, hidden: 8).withProjection(Self.projection(bits: 96, bucketBits: 10))
        #expect(throws: ModelFileError.self) { try ModelFile.decode(ModelFile.encode(wide), path: "m") }
    }

    @Test func queryBitsAskNoLearnedQuestion() {
        let model = randomModel(bits: 32, hidden: 48).withProjection(Self.projection(bits: 64, bucketBits: 10))
        let explained = BitExplanation.explain(model, top: 3)
        #expect(explained.count == 96 && explained.map(\.bit) == Array(0..<96))
        #expect(explained[32...].allSatisfy { $0.yes.isEmpty && $0.no.isEmpty })
        #expect(explained[..<32].contains { !$0.yes.isEmpty })
        #expect(BitExplanation.explain(model, bits: [40, 3], top: 3).map(\.bit) == [40, 3])
    }
}
