/// Scores stored codes against a query that is still a float vector: the *asymmetric* inner
/// product sum_i y_i (2 b_i - 1) of the query's logits y (its encoder outputs before the sign)
/// with a code's bits b as +-1.
///
/// The Hamming distance between two codes throws away how far each query logit is from zero;
/// the asymmetric score keeps it, so it ranks codes closer to the float similarity (Gordo et al.,
/// "Asymmetric distances for binary embeddings", TPAMI 2014). It costs more than a popcount, so
/// TwentyQ uses it on a shortlist of Hamming-nearest codes (`shortlist`), never on a scan.
///
/// Per query, one table of 256 partial sums per byte of the code (the sum of the logits of the
/// bits set in each byte value), so a code costs one lookup and one add per byte. Only the
/// bytes from the first to the last holding a non-zero logit get a table and are read: the
/// others add exactly 0 (a typed query to a model with query bits weighs none of the trained
/// bits, a quarter of the shipped model's code).
public struct AsymmetricScorer: Sendable {
    public let bits: Int
    /// Tables of bytes `firstByte ..< firstByte + table.count / 256`.
    private let table: [Float]
    private let firstByte: Int
    /// The sum of all logits: score = 2 x (sum over set bits) - total.
    private let total: Float

    /// - Parameter logits: one per bit of the codes (B values for B-bit codes).
    public init(logits: [Float]) {
        bits = logits.count
        let first = (logits.firstIndex { $0 != 0 } ?? 0) / 8
        let end = logits.lastIndex { $0 != 0 }.map { $0 / 8 + 1 } ?? first
        var table = [Float](repeating: 0, count: (end - first) * 256)
        for j in first ..< end {
            let t = (j - first) * 256
            for v in 1..<256 {
                // The sum for v is the sum for v without its lowest set bit, plus that bit's logit.
                let bit = 8 * j + v.trailingZeroBitCount
                table[t + v] = table[t + (v & (v - 1))] + (bit < logits.count ? logits[bit] : 0)
            }
        }
        self.table = table
        firstByte = first
        total = logits.reduce(0, +)
    }

    /// The asymmetric inner product with the code at `code` (`(bits + 63) / 64` words; bits past
    /// the width must be zero, as `BinaryCode` keeps them).
    /// Four running sums (bytes i, i + 1, i + 2, i + 3), so the adds do not wait on each other:
    /// one chain of 96 dependent adds per 768 query bits took as long as the look-ups. Each
    /// byte is loaded as a byte (the words are little-endian), not shifted out of its word: a
    /// shift and a mask per byte, and overflow checks on the index, took most of the time in
    /// `perf` on the 20 Newsgroups batch. The sums run in the same order either way.
    @inline(__always)
    public func score(_ code: UnsafePointer<UInt64>) -> Float {
        table.withUnsafeBufferPointer { t in
            let n = t.count / 256
            guard let rows = t.baseAddress, n > 0 else { return 0 - total }
            #if _endian(little)
            let bytes = UnsafeRawPointer(code) + firstByte
            @inline(__always) func entry(_ i: Int) -> Float {
                rows[i &* 256 &+ Int(bytes.load(fromByteOffset: i, as: UInt8.self))]
            }
            #else
            @inline(__always) func entry(_ i: Int) -> Float {
                let j = firstByte &+ i
                return rows[i &* 256 &+ Int(truncatingIfNeeded: code[j &>> 3] &>> UInt64((j & 7) &<< 3)) & 0xff]
            }
            #endif
            var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
            var i = 0
            while i &+ 4 <= n {
                s0 += entry(i); s1 += entry(i &+ 1); s2 += entry(i &+ 2); s3 += entry(i &+ 3)
                i &+= 4
            }
            while i < n { s0 += entry(i); i &+= 1 }
            return 2 * ((s0 + s1) + (s2 + s3)) - total
        }
    }

    /// `candidates` (in the order they came, e.g. ascending Hamming distance) re-ranked by
    /// descending score, ties in their original order; the first `keep`.
    /// - Parameter code: the code of a candidate's id.
    public func shortlist(_ candidates: [Neighbor], keep: Int, code: (Int) -> UnsafePointer<UInt64>) -> [Neighbor] {
        let scored = candidates.enumerated().map { (position: $0.offset, neighbor: $0.element, score: score(code($0.element.id))) }
        return scored.sorted { $0.score > $1.score || ($0.score == $1.score && $0.position < $1.position) }
            .prefix(max(0, keep)).map(\.neighbor)
    }

    /// The score bit by bit, as the definition reads: the reference the table is tested against.
    public static func reference(logits: [Float], code: BinaryCode) -> Float {
        precondition(code.bits == logits.count)
        var sum: Float = 0
        for i in 0..<code.bits { sum += code[bit: i] ? logits[i] : -logits[i] }
        return sum
    }
}
