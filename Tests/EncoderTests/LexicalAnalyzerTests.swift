import Encoder
import Foundation
import Testing

@Suite struct LexicalAnalyzerTests {
    @Test(arguments: [("wings", "wing"), ("slabs", "slab"), ("bodies", "body"), ("series", "sery"), ("flies", "fly"),
                      ("gases", "gase"), ("glass", "glass"), ("status", "status"), ("shoes", "shoe"), ("cries", "cry"),
                      ("aies", "aie"), ("bus", "bus"), ("boss", "boss"), ("heat", "heat"), ("trees", "tree")])
    func theSStemmerFoldsPlurals(word: String, stem: String) {
        #expect(LexicalAnalyzer().terms(word) == [stem])
    }

    @Test func stopWordsGoNumbersAndIdentifiersStay() {
        let terms = LexicalAnalyzer().terms("What are the effects of error 0x80070005 in libfoo2 at 12345678 Hz?")
        #expect(terms == ["effect", "error", "0x80070005", "libfoo2", "12345678", "hz"])
    }

    /// One pass gives the featurizer's exact tokens (so codes are those of `encode(text)`).
    @Test func onePassGivesTheFeaturizersTokens() {
        let texts = ["NASA launched the space shuttle; orbit 12345 and 42.", "Straße STRASSE café Ⅻ ﬁnance",
                     String(repeating: "a", count: 30) + " short " + String(repeating: "9", count: 70) + " end",
                     (0..<300).map { "w\($0)" }.joined(separator: " "), "", "   "]
        for featurizer in [Featurizer(), Featurizer(maxTokenLength: 5, maxTokens: 7, bigrams: false)] {
            for text in texts {
                let (terms, tokens) = LexicalAnalyzer().analyze(text, model: featurizer)
                #expect(tokens == featurizer.tokens(text), "\(text.prefix(40))")
                #expect(terms == LexicalAnalyzer().terms(text))
            }
        }
    }

    @Test func termHashesHave48BitsAndDiffer() {
        let words = (0..<2000).map { "term\($0)" }
        let hashes = words.map(TermHash.of)
        #expect(hashes.allSatisfy { $0 >> 48 == 0 })
        #expect(Set(hashes).count == words.count)
        // Stored in indexes: these values may never change.
        #expect(TermHash.of("xslt") == 0xa913_ce05_ed7d)
        #expect(TermHash.of("café") == 0x3ffc_340b_758f)
    }
}
