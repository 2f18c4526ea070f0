import Foundation
import Ingest
import Testing
import TestSupport

/// `FileText.decode`: Windows-1252 against the reference, glibc's `iconv -f CP1252`, byte by
/// byte; the order of the rules (UTF-16 mark, NUL, UTF-8, Windows-1252); binary refused.
@Suite struct FileTextTests {
    @Test func windows1252MatchesIconv() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        // iconv leaves five bytes undefined; FileText maps them to the C1 controls, as browsers do.
        let undefined: Set<UInt8> = [0x81, 0x8D, 0x8F, 0x90, 0x9D]
        let bytes = (UInt8(0x20)...UInt8(0xFF)).filter { $0 != 0x7F && !undefined.contains($0) }
        let path = dir.appending("cp1252")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let r = try runShell("iconv -f CP1252 -t UTF-8 '\(path)'")
        #expect(r.status == 0, "\(r.stderr)")
        let got = try #require(FileText.windows1252(Data(bytes)))
        #expect(Array(got.unicodeScalars) == Array(r.stdout.unicodeScalars))
        for byte in undefined { #expect(FileText.windows1252(Data([byte])) == String(Unicode.Scalar(byte))) }
    }

    @Test func controlBytesMakeABinaryFile() {
        for byte in UInt8(0)...UInt8(0x7F) {
            let text = byte >= 0x20 && byte != 0x7F || [0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B].contains(byte)
            #expect((FileText.windows1252(Data([0x41, byte, 0xE9])) != nil) == text, "byte \(byte)")
        }
        // Seeded random bytes without a NUL (as compressed data looks): never text.
        var state: UInt64 = 42
        let noise = Data((0..<4_096).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return max(1, UInt8(truncatingIfNeeded: state >> 56))
        })
        #expect(FileText.decode(noise) == nil)
    }

    @Test func rulesApplyInOrder() throws {
        let utf8 = Data("café".utf8)
        #expect(FileText.decode(utf8)?.encoding == .utf8 && FileText.decode(utf8)?.text == "café")
        #expect(FileText.decode(Data())?.encoding == .utf8)
        let latin1 = Data([0x63, 0x61, 0x66, 0xE9])
        #expect(FileText.decode(latin1)?.encoding == .windows1252 && FileText.decode(latin1)?.text == "café")
        let le = Data([0xFF, 0xFE]) + "naïve\n".data(using: .utf16LittleEndian)!
        let be = Data([0xFE, 0xFF]) + "naïve\n".data(using: .utf16BigEndian)!
        for data in [le, be] {
            #expect(FileText.decode(data)?.encoding == .utf16 && FileText.decode(data)?.text == "naïve\n")
        }
        // A mark with an odd length, or a control character inside: not UTF-16; the NULs make it binary.
        #expect(FileText.decode(le + Data([0x41])) == nil)
        #expect(FileText.decode(Data([0xFF, 0xFE]) + "a\u{1}b".data(using: .utf16LittleEndian)!) == nil)
        #expect(FileText.decode(Data([0x41, 0x00, 0x42])) == nil)
        // A NUL after the first 8 KiB does not make a UTF-8 file binary (as before).
        #expect(FileText.decode(Data(repeating: 0x41, count: 8_192) + Data([0])) != nil)
    }
}
