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
}
