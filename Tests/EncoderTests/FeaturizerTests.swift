import Foundation
import BinaryCodes
@testable import Encoder
import Testing

@Suite struct FeaturizerTests {
    let plain = Featurizer(bigrams: false)

    @Test func foldsCaseAndCompatibilityForms() {
        #expect(plain.tokens("Hello WORLD") == ["hello", "world"])
        #expect(plain.tokens("ﬁle Ｆｕｌｌ") == ["file", "full"]) // NFKC: ligature and full-width forms
        #expect(plain.tokens("Café café CAFÉ") == ["café", "café", "café"])
    }

    @Test func splitsOnEverythingButLettersAndDigits() {
        #expect(plain.tokens("e-mail: foo@bar.com, (x86_64)!") == ["e", "mail", "foo", "bar", "com", "x86", "64"])
        #expect(plain.tokens("日本語 テキスト") == ["日本語", "テキスト"])
    }

    @Test func dropsOverlongTokensAndLongNumbers() {
        #expect(plain.tokens("a " + String(repeating: "x", count: 25) + " b") == ["a", "b"])
        #expect(plain.tokens("year 1993 phone 5551234 x1234567") == ["year", "1993", "phone", "x1234567"])
    }

    @Test func truncatesLongDocumentsAndHandlesEmptyText() {
        let f = Featurizer(maxTokens: 3, bigrams: false)
        #expect(f.tokens("one two three four five") == ["one", "two", "three"])
        #expect(plain.tokens("") == [])
        #expect(plain.tokens("  ,.;  ") == [])
    }

    @Test func theASCIIFastPathEqualsTheUnicodePath() {
        var rng = SeededGenerator(seed: 8)
        let alphabet = Array("abcXYZ019 _-.,;:!?@#\t\n'\"()[]{}<>/\\|+=*&^%$~`")
        for length in [0, 1, 5, 30, 200, 2000] {
            for _ in 0..<20 {
                let text = String((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
                #expect(plain.asciiTokens(text) == plain.unicodeTokens(text), "\(text)")
                let short = Featurizer(maxTokenLength: 3, maxTokens: 4, bigrams: false)
                #expect(short.asciiTokens(text) == short.unicodeTokens(text), "\(text)")
            }
        }
    }

    /// The mixed path (ASCII stretches byte by byte, only the stretches around non-ASCII
    /// characters normalized) against normalizing the whole text, on seeded random text built
    /// from the cases where normalization reaches across characters: a letter and a following
    /// combining mark, "=" and "<" with U+0338 (they compose to "≠", "≮"), a mark after a space
    /// or at the start, Hangul jamo that compose, ligatures, full-width and superscript forms
    /// (NFKC), final sigma and U+0345 (case folding), non-ASCII digits, dashes and quotes.
    @Test func theMixedPathEqualsTheUnicodePath() {
        var rng = SeededGenerator(seed: 15)
        let pieces = ["a", "e", "Z", "1", "9", " ", "-", ".", "=", "<", ">", "\n", "_", "'", "x7", "word", "WORD", "12345",
                      "\u{301}", "\u{338}", "\u{308}", "e\u{301}", "é", "É", "\u{1100}", "\u{1161}", "\u{11A8}", "한", "ﬁ", "Ｆ",
                      "²", "½", "①", "٣", "Σ", "ς", "\u{345}", "İ", "ß", "ẞ", "Ǆ", "Å", "\u{212B}", "…", "—", "“", "”", "\u{B4}",
                      "\u{200B}", "日本", "👍🏽", "\u{0B47}", "\u{0B3E}", "\u{0B15}", "\u{20DD}", "\u{3000}"]
        let plain = Featurizer(bigrams: false)
        let short = Featurizer(maxTokenLength: 3, maxTokens: 5, bigrams: false)
        for length in [1, 2, 5, 20, 200] {
            for _ in 0..<300 {
                let text = (0..<length).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()
                #expect(plain.scannedTokens(text) == plain.unicodeTokens(text), "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
                #expect(short.scannedTokens(text) == short.unicodeTokens(text), "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
            }
        }
        // The cases named above, one by one.
        for text in ["a=\u{338}b", "x <\u{338} y", " \u{301}abc", "\u{301}", "cafe\u{301} x", "\u{1100}\u{1161}\u{11A8}", "ﬁle — “Ｆｕｌｌ”",
                     "x²+y² ½", "ΣΑΣ ς", "\u{345}x", "İstanbul", "A\u{212B}B", "5\u{20DD}1234567", "abc.\u{301}def"] {
            #expect(plain.scannedTokens(text) == plain.unicodeTokens(text), "\(text)")
        }
    }

    @Test func addsBigramsOfAdjacentTokens() {
        #expect(Featurizer().terms("New York city") == ["new", "york", "city", "new_york", "york_city"])
        #expect(Featurizer().terms("alone") == ["alone"])
    }
}

@Suite struct VocabularyTests {
    @Test func keepsTermsByDocumentFrequencyDeterministically() {
        let docs = [["a", "b", "c"], ["a", "b"], ["a", "d"], ["b", "e"], ["a"]]
        let v = Vocabulary.build(documents: docs, size: 2, minDocumentFrequency: 2, maxDocumentRatio: 1)
        #expect(v.terms == ["a", "b"])  // df 4 and 3
        let capped = Vocabulary.build(documents: docs, size: 10, minDocumentFrequency: 1, maxDocumentRatio: 0.7)
        #expect(!capped.terms.contains("a"))  // in 80% of documents
        #expect(capped.terms == ["b", "c", "d", "e"])  // df 3, then ties by text
    }

    @Test func ranksUnigramsBeforeBigramsWhateverTheirFrequency() {
        let f = Featurizer()
        let docs = ["of the cat", "of the dog", "of the bird", "the cat sat", "a dog ran"].map { f.terms($0) }
        // "of_the" (df 3) is more frequent than "cat" and "dog" (df 2) but ranks after every unigram.
        let v = Vocabulary.build(documents: docs, size: 5, minDocumentFrequency: 2, maxDocumentRatio: 1)
        #expect(v.terms == ["the", "of", "cat", "dog", "of_the"])
        let small = Vocabulary.build(documents: docs, size: 3, minDocumentFrequency: 2, maxDocumentRatio: 1)
        #expect(small.terms == ["the", "of", "cat"])
    }

    @Test func indexLookupEqualsLookingUpTheTermStrings() {
        let f = Featurizer()
        let v = Vocabulary(terms: ["new", "york", "new_york", "york_city", "the_game", "game", "city_new"], idf: [1, 2, 3, 4, 5, 6, 7])
        for text in ["New York city, new York CITY new", "the game", "game the game", "", "york_city new_york"] {
            let viaStrings = v.tfidf(f.terms(text))
            let viaIndices = v.tfidf(indices: v.termIndices(tokens: f.tokens(text), bigrams: true))
            #expect(viaStrings.indices == viaIndices.indices)
            for (a, b) in zip(viaStrings.values, viaIndices.values) { #expect(abs(a - b) < 1e-6) }
        }
    }

    @Test func tfidfIsUnitLengthSublinearAndIgnoresUnknownTerms() {
        let v = Vocabulary(terms: ["x", "y"], idf: [1, 2])
        let f = v.tfidf(["x", "x", "x", "y", "zzz"])
        #expect(f.indices == [0, 1])
        let raw: [Float] = [1 + log(3), 2]
        let norm = (raw[0] * raw[0] + raw[1] * raw[1]).squareRoot()
        #expect(abs(f.values[0] - raw[0] / norm) < 1e-6 && abs(f.values[1] - raw[1] / norm) < 1e-6)
        #expect(v.tfidf(["zzz"]).isEmpty)
    }
}
