import Foundation
import Ingest
import Testing
import TestSupport

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

    /// A handle reading `data` from a file in `dir`.
    static func handle(_ data: Data, in dir: TemporaryDirectory, name: String = "input") throws -> FileHandle {
        let path = dir.appending(name)
        try data.write(to: URL(fileURLWithPath: path))
        return try #require(FileHandle(forReadingAtPath: path))
    }

    /// Pieces end at line breaks, each line is in exactly one piece, and each piece's first
    /// line number counts the lines before it, whatever the piece size (smaller than a line
    /// included).
    @Test(arguments: [1, 3, 16, 1_000, 1 << 20])
    func lineChunksCoverEveryLineOnce(chunkBytes: Int) throws {
        let dir = try TemporaryDirectory("chunks")
        defer { dir.remove() }
        var state: UInt64 = 0x9E37_79B9
        func next() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let alphabet: [UInt8] = [0x0A, 0x20, 0x0D, 0x61, 0x62, 0x22, 0xC3, 0xA9]
            return alphabet[Int(state >> 60) % alphabet.count]
        }
        let cases = [Data(), Data([0x0A]), Data("abc".utf8), Data("abc\n".utf8), Data("\n\nx\n\n".utf8),
                     Data((0..<5_000).map { _ in next() })]
        for data in cases {
            var pieces: [Data] = [], firsts: [Int] = []
            try Corpus.forEachLineChunk(try Self.handle(data, in: dir), label: "input", chunkBytes: chunkBytes) { chunk, first in
                pieces.append(Data(chunk))
                firsts.append(first)
            }
            #expect(Data(pieces.joined(separator: [0x0A])) == data, "\(data.count) bytes")
            let counts = pieces.map { Corpus.lineRanges($0).count }
            #expect(firsts == counts.indices.map { counts[..<$0].reduce(0, +) })
            #expect(counts.reduce(0, +) == Corpus.lineRanges(data).count)
        }
    }

    /// Parsing a piece at a time gives what parsing the whole gives: documents, line numbers,
    /// skipped lines, the first bad line, and invalid UTF-8 wherever it lies.
    @Test func parsingAPieceAtATimeEqualsParsingTheWhole() throws {
        let dir = try TemporaryDirectory("pieces")
        defer { dir.remove() }
        var lines = (0..<2_000).map { #"{"id": "d\#($0)", "text": "text \#($0) é", "n": \#($0)}"# }
        lines[300] = "  "
        lines[1_500] = "not json"
        lines[1_800] = #"{"id": "long", "text": "\#(String(repeating: "word ", count: 400))"}"#
        for ending in ["", "\n", "\n\n"] {
            let data = Data((lines.joined(separator: "\n") + ending).utf8)
            let whole = try Corpus.parseJSONL(data, label: "c.jsonl", skipBad: true)
            for chunkBytes in [7, 500, 1 << 20] {
                let pieces = try Corpus.parseJSONL(reading: try Self.handle(data, in: dir), label: "c.jsonl", skipBad: true, chunkBytes: chunkBytes)
                #expect(pieces.badLines == whole.badLines && pieces.badLines == 1)
                #expect(pieces.documents.map(\.id) == whole.documents.map(\.id) && pieces.documents.count == 1_998)
                #expect(pieces.documents.map(\.line) == whole.documents.map(\.line))
                #expect(pieces.documents.map(\.text) == whole.documents.map(\.text))
                #expect(pieces.documents.map { $0.fields["n"] } == whole.documents.map { $0.fields["n"] })
                #expect { try Corpus.parseJSONL(reading: try Self.handle(data, in: dir), label: "c.jsonl", chunkBytes: chunkBytes) } throws: { error in
                    "\(error)" == "c.jsonl:1501: not a JSON object"
                }
            }
        }
        // Invalid UTF-8 in the last piece is still found.
        var bytes = Data(lines.prefix(1_000).joined(separator: "\n").utf8)
        bytes.append(contentsOf: [0x0A, 0x7B, 0xFF, 0x7D])
        #expect { try Corpus.parseJSONL(reading: try Self.handle(bytes, in: dir), label: "c.jsonl", skipBad: true, chunkBytes: 4_096) } throws: { error in
            "\(error)" == "cannot read c.jsonl: not valid UTF-8"
        }
    }

    /// `firstLineDecides`: a bad first line (blank lines before it do not count) is
    /// `notCorpus`, with or without `skipBad`, before any document is handed on, at every piece
    /// size; a bad line after a good first one is still a bad line (or skipped).
    @Test func aBadFirstLineMeansOtherJSON() throws {
        let dir = try TemporaryDirectory("first-line")
        defer { dir.remove() }
        let results = Data("\n  \n{\"bench\": \"search\", \"codes_per_second\": 4.0e9}\n{\"id\": \"x\", \"text\": \"a document\"}\n".utf8)
        let corpus = Data("{\"id\": \"a\", \"text\": \"one\"}\n[1, 2]\n{\"id\": \"b\", \"text\": \"two\"}\n".utf8)
        for chunkBytes in [1, 16, 1 << 20] {
            for skipBad in [false, true] {
                var handed = 0
                #expect {
                    try Corpus.forEachJSONLPiece(reading: try Self.handle(results, in: dir), label: "r.jsonl", requireID: true, skipBad: skipBad,
                                                 firstLineDecides: true, chunkBytes: chunkBytes) { handed += $0.count }
                } throws: { error in
                    "\(error)" == "r.jsonl:3: no string field \"text\" on its first line, so it is not a JSONL corpus (other JSON, or another kind of file)"
                }
                #expect(handed == 0)
            }
            #expect { try Corpus.parseJSONL(reading: try Self.handle(corpus, in: dir), label: "c.jsonl", firstLineDecides: true, chunkBytes: chunkBytes) } throws: { error in
                "\(error)" == "c.jsonl:2: not a JSON object"
            }
            let skipped = try Corpus.parseJSONL(reading: try Self.handle(corpus, in: dir), label: "c.jsonl", skipBad: true, firstLineDecides: true,
                                                chunkBytes: chunkBytes)
            #expect(skipped.documents.map(\.id) == ["a", "b"] && skipped.badLines == 1)
        }
        // A first line that is not UTF-8 (a binary file named .jsonl) is not a corpus either; a
        // later one is a fault of a corpus.
        var binary = Data("\n".utf8)
        binary.append(contentsOf: [0x1F, 0x8B, 0x08, 0x00, 0xFF, 0xFE, 0x0A, 0x7B])
        #expect { try Corpus.parseJSONL(reading: try Self.handle(binary, in: dir), label: "b.jsonl", skipBad: true, firstLineDecides: true) } throws: { error in
            "\(error)" == "b.jsonl:2: bytes that are not UTF-8 on its first line, so it is not a JSONL corpus (other JSON, or another kind of file)"
        }
        var late = corpus
        late.append(contentsOf: [0xFF, 0x0A])
        #expect { try Corpus.parseJSONL(reading: try Self.handle(late, in: dir), label: "c.jsonl", skipBad: true, firstLineDecides: true) } throws: { error in
            "\(error)" == "cannot read c.jsonl: not valid UTF-8"
        }
        // Without it, the same first line is an ordinary bad line.
        #expect { try Corpus.parseJSONL(reading: try Self.handle(results, in: dir), label: "r.jsonl") } throws: { error in
            "\(error)" == "r.jsonl:3: no string field \"text\""
        }
    }

    /// A gzipped corpus reads as the plain one; a bad line near the start of a long one stops
    /// the read (gzip, blocked on the full pipe, is stopped, not waited for).
    @Test func gzippedCorporaAreReadInPieces() throws {
        let dir = try TemporaryDirectory("gz")
        defer { dir.remove() }
        let lines = (0..<20_000).map { #"{"id": "d\#($0)", "text": "passage \#($0) about nothing in particular"}"# }
        let plain = dir.appending("c.jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: plain))
        var bad = lines
        bad[1] = "{"
        try Data(bad.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: dir.appending("bad.jsonl")))
        for name in ["c.jsonl", "bad.jsonl"] {
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            gzip.arguments = ["gzip", "-k", dir.appending(name)]
            try gzip.run()
            gzip.waitUntilExit()
            #expect(gzip.terminationStatus == 0)
        }
        let fromGzip = try Corpus.readJSONL(plain + ".gz")
        #expect(fromGzip.map(\.id) == (0..<20_000).map { "d\($0)" })
        #expect(fromGzip.map(\.text) == (try Corpus.readJSONL(plain)).map(\.text))
        #expect { try Corpus.readJSONL(dir.appending("bad.jsonl.gz")) } throws: { error in
            "\(error)" == dir.appending("bad.jsonl.gz") + ":2: not a JSON object"
        }
        // In pieces of 4 KiB the bad line is met while gzip still has 1.4 MB to write.
        let badGzip = dir.appending("bad.jsonl.gz")
        #expect { try Corpus.reading(badGzip) { try Corpus.parseJSONL(reading: $0, label: badGzip, chunkBytes: 4_096) } } throws: { error in
            "\(error)" == badGzip + ":2: not a JSON object"
        }
        #expect { try Corpus.readJSONL(dir.appending("missing.jsonl.gz")) } throws: { error in
            "\(error)" == "cannot read \(dir.appending("missing.jsonl.gz")): no such file or directory"
        }
        // How much of the file has been read: of a .gz file the compressed bytes gzip took in,
        // part of the file after the first piece, all of it at the end. The file is 2 MB of
        // random base64 (about as large compressed): gzip, blocked on the full pipe after the
        // first 4 KiB are read, cannot have taken in more than its buffer and the pipe's.
        var state: UInt64 = 25
        let random = (0..<40).map { row -> String in
            let bytes = (0..<(48 << 10)).map { _ -> UInt8 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            return #"{"id": "r\#(row)", "text": "\#(Data(bytes).base64EncodedString())"}"#
        }
        try Data(random.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: dir.appending("r.jsonl")))
        #expect(try runShell("gzip -k '\(dir.appending("r.jsonl"))'").status == 0)
        for name in ["r.jsonl", "r.jsonl.gz"] {
            let path = dir.appending(name)
            let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            let (first, last) = try Corpus.reading(path, counting: { handle, fileBytesRead in
                _ = try handle.read(upToCount: 4_096)
                let first = fileBytesRead()
                while let more = try handle.read(upToCount: 1 << 16), !more.isEmpty {}
                return (first, fileBytesRead())
            })
            #expect(first > 0 && first < size, "\(name): \(first) of \(size)")
            #expect(last == size, "\(name): \(last) of \(size)")
        }
        // A truncated file ends in half a line: gzip's failure is the one reported.
        let whole = try Data(contentsOf: URL(fileURLWithPath: plain + ".gz"))
        let truncated = dir.appending("truncated.jsonl.gz")
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated))
        #expect { try Corpus.readJSONL(truncated) } throws: { error in
            "\(error)".hasPrefix("cannot read \(truncated): gzip failed") && "\(error)".contains("unexpected end of file")
        }
        #expect { try Corpus.readJSONL(dir.appending("missing.jsonl")) } throws: { error in
            "\(error)" == "cannot read \(dir.appending("missing.jsonl")): no such file or directory"
        }
    }
}
