import Foundation
import Ingest
import Testing
import TestSupport

/// `Gunzip.decompress` against the reference, the `gzip` program: what gzip compresses comes
/// back byte for byte; what `gzip -dc` refuses (cut short, a flipped byte) is refused.
@Suite struct GunzipTests {
    /// `gzip -c -LEVEL` of `data`, through a temporary file.
    static func gzip(_ data: Data, level: Int, in dir: TemporaryDirectory) throws -> Data {
        let plain = dir.appending("plain"), packed = dir.appending("packed.gz")
        try data.write(to: URL(fileURLWithPath: plain))
        #expect(try runShell("gzip -c -\(level) '\(plain)' > '\(packed)'").status == 0)
        return try Data(contentsOf: URL(fileURLWithPath: packed))
    }

    /// Seeded text, rich in repeats (so that deflate's back references span its 32 KiB window)
    /// and in multi-byte UTF-8.
    static func text(_ length: Int, seed: UInt64) -> Data {
        var state = seed
        let words = ["orbit ", "shuttle ", "café ", "Überschall ", "\n", "the ", "Mach 2.5 ", "日本 "].map { Array($0.utf8) }
        var out: [UInt8] = []
        while out.count < length {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            out += words[Int(state >> 61)]
            if state & 0xF == 0 { out.append((UInt8(truncatingIfNeeded: state >> 20) & 0x5F) | 0x20) }
        }
        return Data(out.prefix(length))
    }

    @Test func contentsComeBackAsGzipMadeThem() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        // 0 bytes, one, and sizes around the 64 KiB output chunk and deflate's 32 KiB window.
        for (n, length) in [0, 1, 100, 32_767, 65_536, 65_537, 300_001].enumerated() {
            let data = Self.text(length, seed: UInt64(n + 1))
            for level in [1, 9] {
                let packed = try Self.gzip(data, level: level, in: dir)
                #expect(try Gunzip.decompress(packed) == data, "\(length) bytes, -\(level)")
            }
        }
        // Incompressible bytes (stored blocks).
        var state: UInt64 = 7
        let noise = Data((0..<100_000).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        })
        #expect(try Gunzip.decompress(Self.gzip(noise, level: 6, in: dir)) == noise)
    }

    /// Concatenated members are one file (as `gzip -dc` reads them); bytes after the last member
    /// that begin no other (a tar's zero padding) are ignored; a slice of a larger `Data` works.
    @Test func membersAndTrailingBytes() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let a = Self.text(5_000, seed: 11), b = Self.text(70_000, seed: 12)
        let two = try Self.gzip(a, level: 6, in: dir) + Self.gzip(b, level: 6, in: dir)
        #expect(try Gunzip.decompress(two) == a + b)
        #expect(try Gunzip.decompress(two + Data(repeating: 0, count: 512)) == a + b)
        let framed = Data("xyz".utf8) + two
        #expect(try Gunzip.decompress(framed[framed.startIndex.advanced(by: 3)...]) == a + b)
    }

    @Test func damagedInputIsRefusedWithItsReason() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let data = Self.text(50_000, seed: 3)
        let packed = try Self.gzip(data, level: 6, in: dir)
        for cut in [1, 2, 3, 10, 11, packed.count / 2, packed.count - 8, packed.count - 1] {
            #expect(throws: Gunzip.Failure.self, "cut at \(cut)") { try Gunzip.decompress(packed.prefix(cut)) }
        }
        do {
            _ = try Gunzip.decompress(packed.prefix(packed.count / 2))
        } catch {
            #expect(error == .damaged("it ends in the middle of its data"))
        }
        // A flipped byte in the stored CRC-32, and in the stored length.
        for position in [packed.count - 8, packed.count - 2] {
            var bad = packed
            bad[position] ^= 0x40
            #expect(throws: Gunzip.Failure.self, "byte \(position)") { try Gunzip.decompress(bad) }
        }
        #expect(throws: Gunzip.Failure.damaged("it does not begin with a gzip header")) { try Gunzip.decompress(data) }
        #expect(throws: Gunzip.Failure.damaged("it does not begin with a gzip header")) { try Gunzip.decompress(Data()) }
    }

    /// Contents beyond the limit are refused as soon as they pass it, not after being held.
    @Test func theLimitBoundsTheContents() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let zeros = Data(repeating: 0x61, count: 1 << 20)
        let packed = try Self.gzip(zeros, level: 9, in: dir)
        #expect(packed.count < 4_096)
        #expect(throws: Gunzip.Failure.tooLarge(limit: 1 << 19)) { try Gunzip.decompress(packed, limit: 1 << 19) }
        #expect(try Gunzip.decompress(packed, limit: 1 << 20) == zeros)
    }
}
