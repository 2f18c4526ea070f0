import BinaryCodes
@testable import Encoder
import Foundation
import TestSupport
import Testing

/// The byte paths of analysis (`LexicalAnalyzer.analyze(_:featurizer:vocabulary:)`,
/// `TokenTable`, `Vocabulary.ascending`) against the string paths and the library sort they
/// replace.
@Suite struct TokenLookupTests {
    /// The fortunes fixture's texts, with texts that take every branch: plurals for each rule
    /// of the stemmer, stop words, numbers, long tokens, non-ASCII (composed and decomposed
    /// accents, CJK, compatibility forms) beside ASCII in one text.
    static let texts: [String] = {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fortunes-200.jsonl")
        let lines = (try? String(contentsOf: fixture, encoding: .utf8)) ?? ""
        let fortunes = lines.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["text"] as? String
        }
        return fortunes + [
            "wings slabs bodies series flies gases glass status shoes cries aies bus boss heat trees eies aes ees oes ies es s",
            "The cats of New York city; NEW YORK CITY cats. What are the effects of error 0x80070005 in libfoo2 at 12345678 Hz?",
            "café CAFÉ cafe\u{301}s naïve ﬁles Straße STRASSE 日本語 テキスト e\u{301}tudes résumés x86_64",
            String(repeating: "a", count: 30) + " short " + String(repeating: "9", count: 70) + " end " + String(repeating: "b", count: 65),
            "", "   ", "s", "ss sss ssss", "you're isn't", (0..<400).map { "w\($0 % 37)s" }.joined(separator: " "),
        ]
    }()

    /// A vocabulary of the texts' unigrams and bigrams, and a hand-made one with what a model
    /// file may hold though the featurizer never makes it: a term with two "_", a duplicate,
    /// a decomposed accent, a bigram whose parts are no unigram.
    static let vocabularies: [Vocabulary] = {
        let f = Featurizer()
        let built = Vocabulary.build(documents: texts.map { f.terms($0) }, size: 3_000, minDocumentFrequency: 1, maxDocumentRatio: 1)
        let hand = Vocabulary(terms: ["new", "york", "new_york", "york_city", "a_b_c", "new", "cafe\u{301}", "café_naïve", "naïve",
                                      "cats_of", "日本語_テキスト", "the"],
                              idf: (0..<12).map { Float($0) + 1 })
        return [built, hand, Vocabulary(terms: [], idf: [])]
    }()

    @Test func oneByteScanGivesTheStringPathsTermsAndFeatures() {
        let featurizers = [Featurizer(), Featurizer(maxTokenLength: 5, maxTokens: 7, bigrams: false),
                           Featurizer(maxTokenLength: 80, maxTokens: 3, bigrams: true)]
        let analyzer = LexicalAnalyzer()
        var compared = 0
        for vocabulary in Self.vocabularies {
            for featurizer in featurizers {
                for text in Self.texts {
                    let (terms, tokens) = analyzer.analyze(text, model: featurizer)
                    let fast = analyzer.analyze(text, featurizer: featurizer, vocabulary: vocabulary)
                    #expect(fast.termHashes == terms.map(TermHash.of), "\(text.prefix(60))")
                    #expect(fast.termIndices == vocabulary.termIndices(tokens: tokens, bigrams: featurizer.bigrams), "\(text.prefix(60))")
                    compared += 1
                }
            }
        }
        #expect(compared == 3 * 3 * Self.texts.count && Self.texts.count > 200)
        // The built vocabulary finds terms in them (the comparison is not of empty lists).
        let hits = Self.texts.map { analyzer.analyze($0, featurizer: Featurizer(), vocabulary: Self.vocabularies[0]).termIndices.count }
        #expect(hits.reduce(0, +) > 5_000)
    }

    @Test func stemmedHashesEqualHashesOfStems() {
        for word in ["wings", "bodies", "series", "eies", "aies", "gases", "aes", "ees", "oes", "glass", "status", "bus", "ies",
                     "xies", "xes", "xs", "abcs", "heat", "s", "ss", "sss"] {
            let bytes = Array(word.utf8)
            let fast = bytes.withUnsafeBufferPointer { LexicalAnalyzer.stemmedHash($0, hash: TokenTable.hash($0)) }
            #expect(fast == TermHash.of(LexicalAnalyzer.stem(word)), "\(word)")
        }
    }

    @Test func tokenTablesFindTheirASCIIKeysAlone() {
        let keys = ["alpha", "beta", "", "a", "alpha", "é", "gamma"] + (0..<500).map { "k\($0)" }
        let table = TokenTable(keys.enumerated().map { ($0.element, Int32($0.offset)) })
        func find(_ s: String) -> Int32? {
            Array(s.utf8).withUnsafeBufferPointer { table.index(of: $0, hash: TokenTable.hash($0)) }
        }
        #expect(find("alpha") == 0)  // the first of equal keys
        #expect(find("beta") == 1 && find("") == 2 && find("a") == 3 && find("gamma") == 6)
        #expect(find("é") == nil)  // non-ASCII keys are looked up as strings by the callers
        #expect((0..<500).allSatisfy { find("k\($0)") == Int32(7 + $0) })
        #expect(find("alph") == nil && find("alphaa") == nil && find("k500") == nil && find("b") == nil)
    }

    @Test func radixSortEqualsTheLibrarySort() {
        var rng = SeededGenerator(seed: 23)
        for count in [0, 1, 2, 31, 32, 33, 100, 1_000, 5_000] {
            for largest in [0, 1, 255, 256, 20_000, 1 << 18, Int(Int32.max)] {
                let values = (0..<count).map { _ in Int32(truncatingIfNeeded: rng.next() % UInt64(largest + 1)) }
                #expect(Vocabulary.ascending(values) == values.sorted(), "\(count) values up to \(largest)")
            }
        }
    }

    @Test func tokenCoverageByBytesEqualsTheStringPath() {
        let model = randomModel(bits: 32, hidden: 16)
        var short = model.config
        short.featurizer = Featurizer(maxTokenLength: 5, maxTokens: 3, bigrams: false)
        let shortModel = EncoderModel(config: short, vocabulary: model.vocabulary, layer1: model.layer1, bias1: model.bias1,
                                      layer2: model.layer2, bias2: model.bias2)
        let texts = Self.texts + ["space NASA orbit launch the game", "Space shuttle, space: 1993 12345 orbit", "日本語 space"]
        for m in [model, shortModel] {
            #expect(m.tokenCoverage(texts) == m.referenceTokenCoverage(texts))
            for text in texts { #expect(m.tokenCoverage([text]) == m.referenceTokenCoverage([text]), "\(text.prefix(40))") }
        }
        #expect(model.tokenCoverage(["space NASA orbit launch the game"]) == 5.0 / 6)
    }
}
