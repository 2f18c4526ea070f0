@testable import BinaryCodes
import Testing

/// zlib's CRC-32 against the byte-at-a-time reference.
@Suite struct CRC32Tests {
    @Test func knownValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func zlibMatchesTheReferenceOnEveryLengthAndOffset() {
        var rng = SeededGenerator(seed: 32)
        let bytes = (0..<70_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        bytes.withUnsafeBytes { all in
            for length in Array(0...300) + [4_095, 4_096, 4_097, 65_537] {
                for offset in [0, 1, 3, 7] {
                    let part = UnsafeRawBufferPointer(rebasing: all[offset ..< offset + length])
                    #expect(CRC32.checksum(part) == CRC32.reference(part), "length \(length), offset \(offset)")
                }
            }
        }
        // A sequence without contiguous storage takes the copying path.
        #expect(CRC32.checksum(bytes.prefix(1_000).lazy.map { $0 }) == bytes.prefix(1_000).withUnsafeBytes { CRC32.reference($0) })
    }
}
