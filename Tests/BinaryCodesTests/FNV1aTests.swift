import BinaryCodes
import Testing

/// FNV-1a 64 against the published test vectors (its values are stored in indexes).
@Suite struct FNV1aTests {
    @Test func publishedVectors() {
        #expect(FNV1a.hash([UInt8]()) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash("a".utf8) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash("foobar".utf8) == 0x8594_4171_f739_67e8)
    }

    @Test func combiningInPartsEqualsOneHash() {
        var parts = FNV1a()
        parts.combine("foo".utf8)
        parts.combine(UInt8(ascii: "b"))
        parts.combine("ar".utf8)
        #expect(parts.value == FNV1a.hash("foobar".utf8))
        #expect(parts != FNV1a())
    }

    @Test func hexHasSixteenDigits() {
        #expect(FNV1a.hex(0x1) == "0000000000000001")
        #expect(FNV1a.hex(0x8594_4171_f739_67e8) == "85944171f73967e8")
    }
}
