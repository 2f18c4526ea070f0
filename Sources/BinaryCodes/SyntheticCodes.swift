/// Deterministic random codes for benchmarks and tests: code `index` of stream `seed` is the
/// same whatever order or batch it is made in, so an interrupted `bench index` can be checked
/// and resumed.
public enum SyntheticCodes {
    /// Uniform random code number `index` of the stream `seed`.
    public static func code(index: Int, bits: Int, seed: UInt64) throws -> BinaryCode {
        var rng = SeededGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD6E8_FEB8_6659_FD93))
        _ = rng.next()
        return try BinaryCode.random(bits: bits, using: &rng)
    }

    /// `code` with `flips` distinct random bits flipped (a near-duplicate).
    public static func perturbed<G: RandomNumberGenerator>(_ code: BinaryCode, flips: Int, using rng: inout G) -> BinaryCode {
        var positions = Array(0..<code.bits)
        positions.shuffle(using: &rng)
        var out = code
        for p in positions.prefix(min(flips, code.bits)) { out = out.flipping(bit: p) }
        return out
    }
}
