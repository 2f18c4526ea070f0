/// FNV-1a, 64 bits (Fowler, Noll and Vo): each byte XORed into the state, which is then
/// multiplied by the FNV prime. The one hash of bytes behind the term hashes of the lexical
/// stage (`TermHash`) and the vocabulary's lookup table that shares their state, the content
/// hashes of documents, model fingerprints and the id sequences `index` checks between reads.
/// Term hashes, content hashes and fingerprints are stored in indexes, so its values never
/// change: `FNV1aTests` holds it to the published test vectors.
public struct FNV1a: Equatable, Sendable {
    /// The offset basis: the state before any byte, and the hash of no bytes.
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    /// The 64-bit FNV prime.
    public static let prime: UInt64 = 0x100_0000_01b3

    @usableFromInline var state: UInt64 = FNV1a.offsetBasis

    /// The hash of the bytes combined so far.
    @inlinable public var value: UInt64 { state }

    @inlinable public init() {}

    @inlinable @inline(__always)
    public mutating func combine(_ byte: UInt8) {
        state = (state ^ UInt64(byte)) &* Self.prime
    }

    @inlinable @inline(__always)
    public mutating func combine(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { combine(byte) }
    }

    /// The hash of `bytes`.
    @inlinable @inline(__always)
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hasher = FNV1a()
        hasher.combine(bytes)
        return hasher.value
    }

    /// 16 lower-case hex digits of `value`, zero-padded (content hashes and fingerprints).
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
