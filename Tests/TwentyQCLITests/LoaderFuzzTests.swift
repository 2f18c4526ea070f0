import Foundation
import Ingest
import TestSupport
import Testing
import Training
import TwentyQ
import BinaryCodes
import CodeStore
import Encoder

/// Seeded mutation fuzzing of every loader, in process (issue #16): model files (text and
/// vector, half of them with length and checksum made valid again so parsing goes deep),
/// `.npy`, `.fvecs`, vector JSONL, document JSONL and hex codes; and the readers of a folder's
/// files: gzip, a Word document's ZIP and XML, a manual page, RTF, text of unknown encoding. Each case must load or throw;
/// a trap or a crash ends the test process, which fails the run. `swift test` runs a short pass
/// (TWENTYQ_FUZZ_CASES, default 5,000); `Tools/fuzz.sh` runs a long one.
@Suite struct LoaderFuzzTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static var cases: Int { Int(ProcessInfo.processInfo.environment["TWENTYQ_FUZZ_CASES"] ?? "") ?? 5_000 }
    static var seed: UInt64 { UInt64(ProcessInfo.processInfo.environment["TWENTYQ_FUZZ_SEED"] ?? "") ?? 1_616 }

    enum Loader: String, CaseIterable {
        case textModel, vectorModel, npy, fvecs, vectorJSONL, documentJSONL, hexCode
        /// A folder's files: gzip, a Word document (ZIP of XML), a manual page, RTF, text of unknown
        /// encoding, catdoc's text of a Word 97 document with field instructions.
        case gzip, docx, roff, rtf, fileText, wordFields
    }

    static func seed(_ loader: Loader) throws -> [UInt8] {
        func file(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name))) }
        switch loader {
        case .textModel: return try ModelFile.encode(randomModel(bits: 32, hidden: 8))
        case .vectorModel:
            return try ModelFile.encode(try ModelFile.decodeVectorsForFuzz(file("vectors-12x8-f32.npy")))
        case .npy: return try file("vectors-12x8-f32.npy")
        case .fvecs: return try file("vectors-12x8.fvecs")
        case .vectorJSONL: return try file("vectors-12x8.jsonl")
        case .documentJSONL:
            let lines = try file("fortunes-200.jsonl").split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).prefix(12)
            return Array(lines.joined(separator: [UInt8(ascii: "\n")]))
        case .hexCode: return Array("00ff10aa5533cc0fdeadbeef0123456789abcdef".utf8)
        case .gzip, .docx:
            let dir = try TemporaryDirectory(); defer { dir.remove() }
            if loader == .gzip {
                #expect(try runShell("head -c 3000 '\(fixtures)/fortunes-200.jsonl' | gzip -c > '\(dir.appending("f.gz"))'").status == 0)
                return [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.appending("f.gz"))))
            }
            let xml = "<w:document><w:body><w:p><w:r><w:t>Zorb</w:t></w:r><w:r><w:t>lax &amp; report</w:t></w:r></w:p></w:body></w:document>"
            #expect(try makeZip([("word/document.xml", xml), ("docProps/app.xml", "<Properties/>")], at: dir.appending("d.docx")) == 0)
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.appending("d.docx"))))
        case .roff:
            return Array(#"""
            .\" comment
            .TH LS 1 "2022" "GNU" "User Commands"
            .de X
            ..
            .SH NAME
            ls \- list \fBdirectory\fR contents \(em \[u00E9] \*(lqq\*(rq \s-1small\s0 \h'3n' \C'em'
            .TS
            l l.
            a\tb
            .TE
            .BR ls (1)
            """#.utf8)
        case .rtf:
            return Array(#"""
            {\rtf1\ansi\ansicpg1252\uc1{\fonttbl{\f0 Calibri;}}{\*\generator x}\pard Caf\'e9 \u8217?s {\b bold}\par
            {\field{\*\fldinst HYPERLINK "u"}{\fldrslt link}}{\pict\bin3 {{{}\uc0\u55357 \u56832 \emdash\tab\cell\row\~\{\}
            {\rtf1\ansicpg932 \'93\'fa}}
            """#.utf8)
        case .fileText:
            return Array("caf\u{e9} \u{201C}quoted\u{201D}\n".utf8) + [0xE9, 0x80, 0x41]
        case .wordFields:
            return Array((#"  TOC \o "1-3" \h   HYPERLINK  \l "_Toc1" Intro 1"# + "\n"
                          + #"Page   PAGE   \* MERGEFORMAT  2 See  PAGEREF _Ref9 \h  3  SEQ "Fig" \* ARABIC  4"#).utf8)
        }
    }

    /// 1 to 8 seeded mutations: byte flips, interesting values, 8-byte integers, cuts, copies.
    static func mutate(_ input: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var b = input
        let interesting: [UInt64] = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
                                     UInt64(Int64.max), UInt64(bitPattern: Int64.min), UInt64.max, 1 << 60, 1 << 40]
        for _ in 0 ..< 1 + Int(rng.next() % 8) {
            guard !b.isEmpty else { b = [UInt8(truncatingIfNeeded: rng.next())]; continue }
            let at = Int(rng.next() % UInt64(b.count))
            switch rng.next() % 7 {
            case 0: b[at] ^= UInt8(1 << (rng.next() % 8))
            case 1: b[at] = UInt8(truncatingIfNeeded: interesting[Int(rng.next() % UInt64(interesting.count))])
            case 2:
                let v = interesting[Int(rng.next() % UInt64(interesting.count))]
                for i in 0..<8 where at + i < b.count { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
            case 3: b.removeSubrange(at ..< min(b.count, at + 1 + Int(rng.next() % 64)))
            case 4: b.insert(contentsOf: b[at ..< min(b.count, at + 1 + Int(rng.next() % 64))], at: Int(rng.next() % UInt64(b.count)))
            case 5: b = Array(b.prefix(at))
            default: b[at] = UInt8(truncatingIfNeeded: rng.next())
            }
        }
        return b
    }

    /// A model file's length and CRC made valid again, so the mutation reaches the sections.
    static func refresh(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 24 else { return bytes }
        var out = Array(bytes.dropLast(4))
        let length = UInt64(out.count + 4)
        out.replaceSubrange(12..<20, with: withUnsafeBytes(of: length.littleEndian) { Array($0) })
        return out + withUnsafeBytes(of: CRC32.checksum(out).littleEndian) { Array($0) }
    }

    /// Loads `bytes` with `loader`; true when it loaded, false when it threw.
    static func load(_ loader: Loader, _ bytes: [UInt8]) -> Bool {
        do {
            switch loader {
            case .textModel, .vectorModel: _ = try ModelFile.decodeAny(bytes)
            case .npy, .fvecs, .vectorJSONL: _ = try VectorFile.decode(bytes)
            case .documentJSONL:
                // Strict, and skipping bad lines (which then parses what the mutation left whole).
                _ = try? Corpus.parseJSONL(Data(bytes), label: "fuzz", requireID: true, skipBad: true, hint: "")
                _ = try Corpus.parseJSONL(Data(bytes), label: "fuzz", requireID: true, skipBad: false, hint: "")
            case .hexCode: _ = try BinaryCode(hex: String(decoding: bytes, as: UTF8.self), bits: 4 * bytes.count)
            case .gzip: _ = try Gunzip.decompress(Data(bytes), limit: 1 << 20)
            case .docx: _ = try OfficeText.text(Data(bytes), kind: .docx)
            case .roff: return !RoffText.strip(String(decoding: bytes, as: UTF8.self)).isEmpty
            case .rtf: return RTFText.isRTF(Data(bytes)) && !RTFText.text(Data(bytes)).isEmpty
            case .fileText: return FileText.decode(Data(bytes)) != nil
            case .wordFields:
                let text = String(decoding: bytes, as: UTF8.self)
                return LegacyOfficeText.withoutFieldInstructions(text).utf8.count <= text.utf8.count
            }
            return true
        } catch {
            return false
        }
    }

    @Test func mutatedInputsLoadOrThrowNeverTrap() throws {
        let seeds = try Loader.allCases.map { ($0, try Self.seed($0)) }
        for (loader, bytes) in seeds { #expect(Self.load(loader, bytes), "the \(loader) seed itself loads (\(bytes.count) bytes)") }
        var rng = SeededGenerator(seed: Self.seed)
        var loaded = [Loader: Int](), refused = [Loader: Int]()
        for n in 0 ..< Self.cases {
            let (loader, seed) = seeds[n % seeds.count]
            var input = Self.mutate(seed, &rng)
            if (loader == .textModel || loader == .vectorModel) && rng.next() % 2 == 0 { input = Self.refresh(input) }
            if Self.load(loader, input) { loaded[loader, default: 0] += 1 } else { refused[loader, default: 0] += 1 }
        }
        let total = loaded.values.reduce(0, +) + refused.values.reduce(0, +)
        #expect(total == Self.cases)
        // Mutations must reach both outcomes (a harness whose every case failed to parse at the
        // first byte would test nothing beyond the magic number).
        #expect(refused.values.reduce(0, +) > 0 && loaded.values.reduce(0, +) > 0)
        let summary = Loader.allCases.map { "\($0.rawValue) \(loaded[$0] ?? 0)/\(refused[$0] ?? 0)" }.joined(separator: ", ")
        print("fuzz: seed \(Self.seed), \(total) mutated inputs, none trapped (loaded/refused: \(summary))")
    }
}

extension ModelFile {
    /// A small vector model for the fuzzer's seed (sign binarisation of the fixture's 8 dimensions).
    static func decodeVectorsForFuzz(_ npy: [UInt8]) throws -> VectorEncoderModel {
        VectorBaselines.sign(dimensions: try VectorFile.decode(npy).dimensions)
    }
}
