import BinaryCodes
import Encoder
import Foundation
import TestSupport
import Testing

@Suite struct VectorFileTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path
    static func fixture(_ name: String) -> String { fixtures + "/" + name }

    /// The reference: the float32 .npy as numpy wrote it, read byte by byte here.
    static func reference() throws -> [Float] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture("vectors-12x8-f32.npy"))))
        let start = 10 + Int(bytes[8]) + Int(bytes[9]) << 8
        return (0..<96).map { i in
            let o = start + 4 * i
            return Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
        }
    }

    @Test(arguments: ["vectors-12x8-f32.npy", "vectors-12x8-f32-fortran.npy", "vectors-12x8-f64.npy", "vectors-12x8.fvecs", "vectors-12x8.jsonl"])
    func everyFormatReadsTheSameVectors(name: String) throws {
        let set = try VectorFile.read(Self.fixture(name))
        #expect(set.dimensions == 8 && set.count == 12)
        let reference = try Self.reference()
        for (a, b) in zip(set.values, reference) { #expect(abs(a - b) <= 1e-6 * max(1, abs(b))) }
    }

    @Test func float16IsReadWithinHalfPrecision() throws {
        let set = try VectorFile.read(Self.fixture("vectors-12x8-f16.npy"))
        for (a, b) in zip(set.values, try Self.reference()) { #expect(abs(a - b) <= abs(b) / 1024 + 1e-4) }
    }

    @Test func jsonlKeepsIdsAndOtherFields() throws {
        let set = try VectorFile.read(Self.fixture("vectors-12x8.jsonl"))
        #expect(set.ids == (0..<12).map { "v\($0)" })
        #expect(String(decoding: set.metadata![4], as: UTF8.self) == #"{"tag":1}"#)
        #expect(set.id(3) == "v3")
        let plain = try VectorFile.read(Self.fixture("vectors-12x8.fvecs"))
        #expect(plain.ids == nil && plain.id(3) == "3")
    }

    @Test func writersRoundTrip() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let set = try VectorFile.read(Self.fixture("vectors-12x8.fvecs"))
        try Data(VectorFile.npyBytes(set)).write(to: URL(fileURLWithPath: dir.appending("a.npy")))
        try Data(VectorFile.fvecsBytes(set)).write(to: URL(fileURLWithPath: dir.appending("a.fvecs")))
        #expect(try VectorFile.read(dir.appending("a.npy")).values == set.values)
        #expect(try VectorFile.read(dir.appending("a.fvecs")).values == set.values)
        #expect(try VectorFile.npyBytes(VectorFile.read(Self.fixture("vectors-12x8-f32.npy")))
            == [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.fixture("vectors-12x8-f32.npy")))))
    }

    /// Writes `bytes` to a file named `name` and returns the error reading it gives.
    func error(_ name: String, _ bytes: [UInt8]) throws -> VectorFileError? {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Data(bytes).write(to: URL(fileURLWithPath: dir.appending(name)))
        do { _ = try VectorFile.read(dir.appending(name)); return nil } catch let e as VectorFileError {
            return e
        }
    }

    @Test func badFilesNameTheRowAndTheProblem() throws {
        let fvecs = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixture("vectors-12x8.fvecs"))))
        // Truncated in row 11 (each row is 36 bytes).
        let truncated = try error("t.fvecs", Array(fvecs.dropLast(5)))
        guard case .truncated(_, 11, _) = truncated else { Issue.record("got \(String(describing: truncated))"); return }
        #expect(truncated!.description.contains("row 11"))
        // Row 3 declares 9 dimensions.
        var wrong = fvecs
        wrong[3 * 36] = 9
        let wrongError = try error("w.fvecs", wrong)
        guard case .wrongDimensions(_, 3, 8, 9) = wrongError else { Issue.record("got \(String(describing: wrongError))"); return }
        // A NaN in row 5, value 2.
        var nan = fvecs
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { for (i, b) in $0.enumerated() { nan[5 * 36 + 4 + 2 * 4 + i] = b } }
        let nanError = try error("n.fvecs", nan)
        guard case .notFinite(_, 5, 2) = nanError else { Issue.record("got \(String(describing: nanError))"); return }
        // Empty file; unknown format; 1-D npy; unsupported dtype; truncated npy data.
        #expect(try error("e.fvecs", []).map { if case .empty = $0 { return true } else { return false } } == true)
        #expect(try error("x.bin", Array("hello there".utf8)).map { if case .unknownFormat = $0 { return true } else { return false } } == true)
        let npy = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixture("vectors-12x8-f32.npy"))))
        let shortNPY = try error("s.npy", Array(npy.dropLast(40)))
        guard case .truncated(_, 10, _) = shortNPY else { Issue.record("got \(String(describing: shortNPY))"); return }
        var header = String(decoding: npy[10 ..< 128], as: UTF8.self)
        header = header.replacingOccurrences(of: "(12, 8)", with: "(96,)  ")
        let oneD = try error("o.npy", Array(npy[0..<10]) + Array(header.utf8) + Array(npy[128...]))
        #expect(oneD?.description.contains("not 2-D") == true)
        let intHeader = String(decoding: npy[10 ..< 128], as: UTF8.self).replacingOccurrences(of: "<f4", with: "<i4")
        let ints = try error("i.npy", Array(npy[0..<10]) + Array(intHeader.utf8) + Array(npy[128...]))
        #expect(ints?.description.contains("astype('float32')") == true)
    }

    @Test func badJSONLLinesAreNamed() throws {
        func jsonl(_ lines: [String]) throws -> String? { try error("v.jsonl", Array(lines.joined(separator: "\n").utf8))?.description }
        #expect(try jsonl([#"{"id": "a", "vector": [1, 2]}"#, #"{"id": "b", "vector": [1]}"#])?.contains("row 1: 1 dimensions, expected 2") == true)
        #expect(try jsonl([#"{"id": "a", "vector": [1, 2]}"#, #"{"id": "a", "vector": [1, 3]}"#])?.contains("line 2: id \"a\" appears twice") == true)
        #expect(try jsonl([#"{"id": "a", "vector": [1, "x"]}"#])?.contains("line 1: vector element 1 is not a number") == true)
        #expect(try jsonl([#"{"id": "a", "vector": [1, true]}"#])?.contains("element 1 is not a number") == true)
        #expect(try jsonl([#"{"vector": [1, 2]}"#])?.contains("no \"id\"") == true)
        #expect(try jsonl([#"{"id": "a", "vec": [1, 2]}"#])?.contains("no \"vector\"") == true)
        #expect(try jsonl([#"{"id": 7, "vector": [1, 2]}"#, "not json"])?.contains("line 2: not valid JSON") == true)
        #expect(try jsonl(["", "  "])?.contains("holds no vectors") == true)
    }

    @Test func idsFileMustMatchTheVectors() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try "a\nb\nc\n".write(toFile: dir.appending("ids.txt"), atomically: true, encoding: .utf8)
        #expect(try VectorFile.readIDs(dir.appending("ids.txt"), count: 3) == ["a", "b", "c"])
        #expect(throws: VectorFileError.idCount(path: dir.appending("ids.txt"), ids: 3, vectors: 4)) {
            try VectorFile.readIDs(dir.appending("ids.txt"), count: 4)
        }
    }

    @Test func halfFloatConversionMatchesIEEE() {
        // Every binary16 pattern that is finite converts to Float and back unchanged.
        for bits in 0...UInt16.max where bits & 0x7c00 != 0x7c00 {
            #expect(Float(halfBits: bits).halfBits == bits)
        }
        #expect(Float(halfBits: 0x3c00) == 1 && Float(halfBits: 0xc000) == -2 && Float(halfBits: 0x0001) == 0x1p-24)
        #expect(Float(70000).halfBits == 0x7c00)               // overflow to infinity
        #expect(Float(1 + 0x1p-11).halfBits == 0x3c00)         // halfway: to even
        #expect(Float(1 + 0x1p-11 + 0x1p-20).halfBits == 0x3c01)
    }

    @Test(arguments: VectorStorage.allCases)
    func storedVectorsRescoreLikeTheFloats(storage: VectorStorage) throws {
        var rng = SeededGenerator(seed: 5)
        let d = 48
        let query = VectorMetric.cosine.prepare((0..<d).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 })
        for _ in 0..<50 {
            let v = (0..<d).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
            let bytes = storage.encode(v)
            #expect(bytes.count == storage.byteCount(dimensions: d))
            let decoded = bytes.withUnsafeBytes { storage.decode($0, dimensions: d) }
            let tolerance: Float = storage == .int8 ? 0.5 / 127 * (v.map(abs).max() ?? 1) : (storage == .float16 ? 1e-3 : 0)
            for (a, b) in zip(decoded, v) { #expect(abs(a - b) <= tolerance + 1e-7) }
            let norm = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            let exact = zip(query, v).reduce(Float(0)) { $0 + $1.0 * $1.1 } / norm
            let got = query.withUnsafeBufferPointer { q in bytes.withUnsafeBytes { storage.similarity(q, $0, metric: .cosine) } }
            #expect(abs(got - exact) <= (storage == .int8 ? 0.01 : 1e-3))
        }
    }
}
