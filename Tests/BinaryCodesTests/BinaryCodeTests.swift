import BinaryCodes
import TestSupport
import Testing

@Suite struct BinaryCodeTests {
    static let widths = [1, 7, 63, 64, 65, 128, 255, 256, 384, 512, 1000, 1024, 4096]

    @Test(arguments: widths)
    func hexRoundTripsEveryWidth(bits: Int) throws {
        var rng = SeededGenerator(seed: UInt64(bits))
        for _ in 0..<20 {
            let code = try BinaryCode.random(bits: bits, using: &rng)
            #expect(code.hex.count == (bits + 3) / 4)
            #expect(try BinaryCode(hex: code.hex, bits: bits) == code)
        }
    }

    @Test func hexPutsBitZeroInTheLastDigit() throws {
        let code = try BinaryCode(zeroBits: 12).flipping(bit: 0).flipping(bit: 11)
        #expect(code.hex == "801")
    }

    @Test(arguments: [0, -1, 4097])
    func unsupportedWidthsAreRejected(bits: Int) {
        #expect(throws: CodeError.unsupportedWidth(bits: bits)) { try BinaryCode(zeroBits: bits) }
    }

    @Test func paddingBitsMustBeZero() {
        #expect(throws: CodeError.paddingBitsSet(bits: 65)) { try BinaryCode(bits: 65, words: [0, 2]) }
        #expect(throws: CodeError.wordCountMismatch(bits: 65, expectedWords: 2, actualWords: 1)) {
            try BinaryCode(bits: 65, words: [0])
        }
    }

    @Test func hexOfTheWrongLengthOrAlphabetIsRejected() {
        #expect(throws: CodeError.self) { try BinaryCode(hex: "abc", bits: 16) }
        #expect(throws: CodeError.self) { try BinaryCode(hex: "zz", bits: 8) }
        #expect(throws: CodeError.self) { try BinaryCode(hex: "f", bits: 3) } // bit 3 is padding
    }

    @Test func matrixRejectsMismatchedWidthsAndPadding() throws {
        var matrix = try CodeMatrix(bits: 100)
        #expect(throws: CodeError.widthMismatch(expected: 100, actual: 64)) { try matrix.append(try BinaryCode(zeroBits: 64)) }
        #expect(throws: CodeError.paddingBitsSet(bits: 100)) { try CodeMatrix(bits: 100, words: [0, 1 << 40]) }
    }
}
