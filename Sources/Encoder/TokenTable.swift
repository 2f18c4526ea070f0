import BinaryCodes

/// A fixed list of ASCII byte strings, looked up by a token's bytes and a hash the caller has
/// already computed, so that one hash of a token serves every table it is looked up in (the
/// vocabulary, the stop words) and no string is built per token.
///
/// Open addressing with linear probing over a power-of-two table at most half full; a slot
/// holds a key's index, and a key matches when its full 64-bit hash and then its bytes are
/// equal. The hash is `TokenTable.hash`, FNV-1a over the bytes: the state `TermHash` finalises,
/// so the lexical stage's hash of an unstemmed term costs no second pass.
///
/// Only ASCII keys are held (`init` skips the others): an ASCII token equals an ASCII key
/// exactly when their bytes do, while a non-ASCII one must be compared as a `String` (canonical
/// equivalence), which the callers do with their dictionaries. Each key maps to a value given
/// with it.
struct TokenTable: Sendable {
    /// Key i: `keyBytes[keyStarts[i] ..< keyStarts[i + 1]]`.
    private let keyBytes: [UInt8]
    private let keyStarts: [Int]
    private let keyHashes: [UInt64]
    /// Per key, its value.
    private let keyValues: [Int32]
    /// Index into the keys, or -1 for an empty slot.
    private let slots: [Int32]
    private let shift: UInt64

    /// The table of the ASCII keys of `entries`; of equal keys, the first one's value.
    init(_ entries: [(key: String, value: Int32)]) {
        var bytes: [UInt8] = [], starts = [0], hashes: [UInt64] = [], values: [Int32] = []
        for (key, value) in entries where key.utf8.allSatisfy({ $0 < 0x80 }) {
            bytes += key.utf8
            starts.append(bytes.count)
            values.append(value)
        }
        bytes.withUnsafeBufferPointer { all in
            for k in 0 ..< values.count { hashes.append(Self.hash(UnsafeBufferPointer(rebasing: all[starts[k] ..< starts[k + 1]]))) }
        }
        var log2 = 4
        while 1 << log2 < 2 * values.count { log2 += 1 }
        var slots = [Int32](repeating: -1, count: 1 << log2)
        let shift = UInt64(64 - log2)
        keyBytes = bytes
        keyStarts = starts
        keyHashes = hashes
        keyValues = values
        self.shift = shift
        for k in 0 ..< values.count {
            var s = Self.slot(hashes[k], shift: shift)
            var duplicate = false
            while slots[s] >= 0 {
                let other = Int(slots[s])
                if hashes[other] == hashes[k] && bytes[starts[other] ..< starts[other + 1]] == bytes[starts[k] ..< starts[k + 1]] {
                    duplicate = true
                    break
                }
                s = (s + 1) & (slots.count - 1)
            }
            if !duplicate { slots[s] = Int32(k) }
        }
        self.slots = slots
    }

    /// FNV-1a (64 bits) of `bytes`.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 { FNV1a.hash(bytes) }

    /// The first slot to probe: the high bits of a multiplicative mix (FNV's low bits alone
    /// spread short keys poorly).
    @inline(__always)
    private static func slot(_ hash: UInt64, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The value of the key equal to `token`, whose `hash` is given; nil when there is none.
    @inline(__always)
    func index(of token: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32? {
        let mask = slots.count - 1
        var s = Self.slot(hash, shift: shift)
        while true {
            let k = Int(slots[s])
            if k < 0 { return nil }
            if keyHashes[k] == hash && equals(k, token) { return keyValues[k] }
            s = (s + 1) & mask
        }
    }

    @inline(__always)
    private func equals(_ k: Int, _ token: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = keyStarts[k]
        guard keyStarts[k + 1] - start == token.count else { return false }
        return keyBytes.withUnsafeBufferPointer { all in
            for i in 0 ..< token.count where all[start + i] != token[i] { return false }
            return true
        }
    }
}

/// A fixed map from 64-bit keys to Int32 values (a vocabulary's bigrams: the pair of its two
/// tokens' ids), open addressing with linear probing, at most half full.
struct PairTable: Sendable {
    private let keys: [UInt64]
    private let values: [Int32]
    /// Index into `keys`, or -1.
    private let slots: [Int32]
    private let shift: UInt64

    /// The map of `pairs`; of equal keys, the first value.
    init(_ pairs: [(key: UInt64, value: Int32)]) {
        var log2 = 4
        while 1 << log2 < 2 * pairs.count { log2 += 1 }
        var slots = [Int32](repeating: -1, count: 1 << log2)
        let shift = UInt64(64 - log2)
        for (i, p) in pairs.enumerated() {
            var s = Int(truncatingIfNeeded: (p.key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while slots[s] >= 0 && pairs[Int(slots[s])].key != p.key { s = (s + 1) & (slots.count - 1) }
            if slots[s] < 0 { slots[s] = Int32(i) }
        }
        keys = pairs.map(\.key)
        values = pairs.map(\.value)
        self.slots = slots
        self.shift = shift
    }

    @inline(__always)
    func value(for key: UInt64) -> Int32? {
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
        while true {
            let k = Int(slots[s])
            if k < 0 { return nil }
            if keys[k] == key { return values[k] }
            s = (s + 1) & mask
        }
    }
}
