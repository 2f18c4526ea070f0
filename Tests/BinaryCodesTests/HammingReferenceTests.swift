import BinaryCodes
import TestSupport
import Testing

@Suite struct HammingReferenceTests {
    @Test(arguments: [1, 63, 64, 65, 130, 256])
    func distanceIsSymmetricZeroOnSelfAndFullOnComplement(bits: Int) throws {
        var rng = SeededGenerator(seed: 7)
        let a = try BinaryCode.random(bits: bits, using: &rng), b = try BinaryCode.random(bits: bits, using: &rng)
        #expect(HammingReference.distance(a, b) == HammingReference.distance(b, a))
        #expect(HammingReference.distance(a, a) == 0)
        var complement = a
        for i in 0..<bits { complement = complement.flipping(bit: i) }
        #expect(HammingReference.distance(a, complement) == bits)
    }

    @Test func bitwiseAndWordwiseReferencesAgree() throws {
        let matrix = try randomMatrix(bits: 200, count: 50, seed: 3)
        let query = matrix[7].flipping(bit: 5).flipping(bit: 150)
        let bitwise = HammingReference.nearest(to: query, in: matrix, k: 50)
        let wordwise = matrix.withBlock { HammingReference.nearest(to: query, blocks: [$0], k: 50) }
        #expect(bitwise == wordwise)
        #expect(bitwise.first == Neighbor(id: 7, distance: 2))
    }
}
