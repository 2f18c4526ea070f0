import Foundation
import Ingest
import Testing

/// `Corpus.lineRanges` against the plain reference (`Data.split` and a blank test per line), on
/// seeded random bytes rich in newlines, blanks and carriage returns, and on edge cases.
@Suite struct CorpusLinesTests {
    static func reference(_ data: Data) -> [(Data, Bool)] {
        data.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            (Data(line), line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
        }
    }

    @Test func lineRangesMatchTheReference() {
        var state: UInt64 = 0x1234_5678
        func next() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let alphabet: [UInt8] = [0x0A, 0x0A, 0x20, 0x09, 0x0D, 0x61, 0x7B, 0x22, 0xC3, 0xA9]
            return alphabet[Int(state >> 60) % alphabet.count]
        }
        var cases: [Data] = [Data(), Data([0x0A]), Data([0x0A, 0x0A]), Data("abc".utf8), Data("abc\n".utf8), Data(" \t\r\n x".utf8)]
        for length in [1, 2, 3, 17, 100, 1_000, 10_000] { cases.append(Data((0..<length).map { _ in next() })) }
        // A slice whose indices do not start at 0.
        let whole = Data("skip\nthis\n  \nline one\nline two".utf8)
        cases.append(whole[whole.index(whole.startIndex, offsetBy: 5)...])
        for data in cases {
            let got = Corpus.lineRanges(data).map { (Data(data[$0.range]), $0.blank) }
            let want = Self.reference(data)
            #expect(got.map(\.0) == want.map(\.0) && got.map(\.1) == want.map(\.1), "\(data.count) bytes")
        }
    }

    /// A corpus long enough to be parsed on several threads: documents come back in file order
    /// with their line numbers, blank lines skipped, and the first bad line is the one reported
    /// (or every bad line counted with `skipBad`).
    @Test func parsingManyLinesKeepsFileOrderAndTheFirstBadLine() throws {
        var lines: [String] = []
        for i in 0..<3_000 {
            switch i {
            case 1_200: lines.append("not json")
            case 2_500: lines.append(#"{"id": 1.5, "text": "x"}"#)
            case 700, 701: lines.append("   ")
            default: lines.append(#"{"id": "d\#(i)", "text": "text \#(i)", "label": "l\#(i % 3)", "n": \#(i)}"#)
            }
        }
        let data = Data(lines.joined(separator: "\n").utf8)
        let (docs, bad) = try Corpus.parseJSONL(data, label: "c.jsonl", skipBad: true)
        #expect(bad == 2)
        let expected = (0..<3_000).filter { ![700, 701, 1_200, 2_500].contains($0) }
        #expect(docs.map(\.id) == expected.map { "d\($0)" })
        #expect(docs.map(\.line) == expected.map { $0 + 1 })
        #expect(docs.map(\.text) == expected.map { "text \($0)" })
        #expect(docs.map { $0.labels } == expected.map { ["l\($0 % 3)"] })
        #expect(docs.map { $0.fields["n"] } == expected.map { "\($0)" })
        #expect { try Corpus.parseJSONL(data, label: "c.jsonl") } throws: { error in
            "\(error)".contains("c.jsonl:1201") && "\(error)".contains("not a JSON object")
        }
        var withoutFirst = lines
        withoutFirst[1_200] = #"{"id": "fixed", "text": "fixed"}"#
        #expect { try Corpus.parseJSONL(Data(withoutFirst.joined(separator: "\n").utf8), label: "c.jsonl") } throws: { error in
            "\(error)".contains("c.jsonl:2501") && "\(error)".contains("must be a string or an integer")
        }
    }
}
