import Foundation
import Ingest
import TestSupport
import Testing

/// `DocumentFile`: a document's text kept up to `textLimit`, cut where no character is split.
@Suite struct DocumentFileTests {
    /// A cut never splits a UTF-8 character (of 2, 3 or 4 bytes) or a UTF-16 surrogate pair.
    @Test func cutsFallBetweenCharacters() {
        for character in ["é", "€", "😀"] {
            let bytes = Array(character.utf8)
            for offset in 0 ..< bytes.count {
                let data = Data(repeating: UInt8(ascii: "a"), count: 10 - offset) + Data(bytes) + Data("tail".utf8)
                let cut = DocumentFile.cutAtCharacter(data, limit: 10)
                #expect(String(data: cut, encoding: .utf8) != nil, "\(character) at \(offset)")
                // The character starts 10 - offset bytes in: kept whole when it ends by 10, else left out.
                #expect(cut.count == (offset == 0 ? 10 : 10 - offset), "\(character) at \(offset): \(cut.count)")
            }
        }
        // UTF-16 with a byte-order mark: an even length, not between the halves of a pair.
        let le = Data([0xFF, 0xFE]) + "ab😀cd".data(using: .utf16LittleEndian)!
        for limit in 2 ... le.count - 1 {
            let cut = DocumentFile.cutAtCharacter(le, limit: limit)
            #expect(cut.count % 2 == 0 && String(data: cut.dropFirst(2), encoding: .utf16LittleEndian) != nil, "\(limit)")
        }
        #expect(DocumentFile.cutAtCharacter(Data("short".utf8), limit: 10) == Data("short".utf8))
    }

    /// A plain file larger than `textLimit` is read as its first 16 MiB, decoded as UTF-8 even
    /// with a character across the limit; text extracted or decoded is capped the same.
    @Test func aHugeTextFileIsReadAsItsBeginning() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let limit = DocumentFile.textLimit
        var big = Data("zorblax starts the file ".utf8)
        big += Data(repeating: UInt8(ascii: "x"), count: limit - big.count - 1) + Data("€".utf8) + Data(repeating: UInt8(ascii: "y"), count: 1 << 20)
        try big.write(to: URL(fileURLWithPath: dir.appending("huge.log")))
        guard case .text(let text, let encoding, let cut) = DocumentFile.read(dir.appending("huge.log")) else {
            Issue.record("not read as text: \(DocumentFile.read(dir.appending("huge.log")))")
            return
        }
        #expect(encoding == .utf8 && cut && text.hasPrefix("zorblax starts") && text.utf8.count == limit - 1 && text.last == "x")
        let long = String(repeating: "é", count: limit / 2 + 5)
        #expect(DocumentFile.capped(long).utf8.count == limit && DocumentFile.capped("short") == "short")
        // Text given as data is read whole and capped: cut too; a file within the limit is not.
        #expect(DocumentFile.read(Data(long.utf8), name: "long.txt") == .text(String(long.prefix(limit / 2)), encoding: .utf8, cut: true))
        try Data("small".utf8).write(to: URL(fileURLWithPath: dir.appending("small.txt")))
        #expect(DocumentFile.read(dir.appending("small.txt")) == .text("small", encoding: .utf8, cut: false))
        let odd = "a" + long
        #expect(DocumentFile.capped(odd).utf8.count == limit - 1)
    }
}
