import CZlib

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), computed by zlib's `crc32_z`.
/// `reference` is the byte-at-a-time table version that the tests hold zlib to.
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        if let fast = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) { return fast }
        let copy = Array(bytes)
        return copy.withUnsafeBytes { checksum($0) }
    }

    /// The checksum of raw bytes (the store's records and code chunks, read in place).
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        return UInt32(truncatingIfNeeded: crc32_z(0, base.assumingMemoryBound(to: UInt8.self), bytes.count))
    }

    /// The naive reference: one table lookup per byte.
    static func reference(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        table.withUnsafeBufferPointer { t in
            var crc: UInt32 = 0xFFFF_FFFF
            for b in bytes { crc = t[Int((crc ^ UInt32(b)) & 0xff)] ^ (crc >> 8) }
            return crc ^ 0xFFFF_FFFF
        }
    }
}
