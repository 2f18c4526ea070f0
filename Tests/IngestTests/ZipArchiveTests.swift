import Foundation
import Ingest
import Testing
import TestSupport

/// `ZipArchive` against the reference, the `zip` program: every member comes back as written,
/// stored or deflated; what is damaged, encrypted or too large is refused with its reason.
@Suite struct ZipArchiveTests {
    static func bytes(_ count: Int, seed: UInt64, alphabet: Int) -> Data {
        var state = seed
        return Data((0..<count).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: (state >> 33) % UInt64(alphabet)) &+ 0x20
        })
    }

    @Test func membersComeBackAsZipWroteThem() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        // Empty, small, repetitive (deflates well) and near-random (stored blocks inside deflate).
        let members: [(String, Data)] = [("empty.txt", Data()), ("a/one.xml", Data("<x>1</x>".utf8)),
                                         ("a/b/text.txt", Self.bytes(300_000, seed: 1, alphabet: 4)),
                                         ("noise.bin", Self.bytes(70_000, seed: 2, alphabet: 224))]
        for level in [0, 1, 9] {
            let path = dir.appending("t\(level).zip")
            #expect(try makeZip(members, at: path, level: level) == 0)
            let zip = try ZipArchive(Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(zip.members.map(\.name) == members.map(\.0))
            for (name, data) in members {
                let member = try #require(zip.member(name))
                #expect(member.size == data.count)
                #expect(try zip.contents(of: member) == data, "\(name) at -\(level)")
            }
        }
    }

    @Test func damagedEncryptedAndLargeArchivesAreRefused() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let text = Self.bytes(50_000, seed: 3, alphabet: 20)
        let path = dir.appending("t.zip")
        #expect(try makeZip([("t.txt", text)], at: path) == 0)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: ZipArchive.Failure.damaged("no end of central directory")) { try ZipArchive(good.prefix(good.count - 30)) }
        #expect(throws: ZipArchive.Failure.damaged("too short to hold a central directory")) { try ZipArchive(Data("PK".utf8)) }
        #expect(throws: ZipArchive.Failure.damaged("no end of central directory")) { try ZipArchive(text) }
        // A flipped byte inside the deflated data: the stream or its CRC-32 gives it away.
        var flipped = good
        flipped[flipped.startIndex + 200] ^= 0x10
        let zip = try ZipArchive(flipped)
        #expect(throws: ZipArchive.Failure.self) { try zip.contents(of: zip.members[0]) }
        #expect(throws: ZipArchive.Failure.tooLarge(limit: 1 << 10)) { try ZipArchive(good).contents(of: ZipArchive(good).members[0], limit: 1 << 10) }
        let locked = dir.appending("locked.zip")
        #expect(try makeZip([("t.txt", text)], at: locked, password: "secret") == 0)
        let encrypted = try ZipArchive(Data(contentsOf: URL(fileURLWithPath: locked)))
        #expect(throws: ZipArchive.Failure.unsupported("t.txt is encrypted")) { try encrypted.contents(of: encrypted.members[0]) }
    }
}
