import BinaryCodes
import Foundation

/// Errors reading a model file; each names the problem and what to do.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case notAModel(path: String)
    case futureVersion(path: String, found: UInt32, supported: UInt32)
    case truncated(path: String, expected: Int, actual: Int)
    case checksumMismatch(path: String)
    case malformed(path: String, detail: String)
    case wrongKind(path: String, found: String, expected: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read model file \(path): \(reason)"
        case .notAModel(let path):
            return "\(path) is not a TwentyQ model (wrong magic number); pass a file that TwentyQ's trainer wrote"
        case .futureVersion(let path, let found, let supported):
            return "\(path) is a version \(found) model; this TwentyQ reads up to version \(supported): upgrade TwentyQ"
        case .truncated(let path, let expected, let actual):
            return "model file \(path) is truncated: \(actual) of \(expected) bytes; copy it again or retrain"
        case .checksumMismatch(let path):
            return "model file \(path) is corrupt (checksum mismatch); copy it again or retrain"
        case .malformed(let path, let detail):
            return "model file \(path) is malformed: \(detail)"
        case .wrongKind(let path, let found, let expected):
            return found == "vectors"
                ? "\(path) is a vector model (float vectors to codes), not a \(expected) model; use it with a vector index"
                : "\(path) is a \(found) model, not a \(expected) model; a vector index needs a vector model"
        }
    }

    /// What is wrong, without the file's name or the advice (for messages about a model kept
    /// somewhere other than a file, such as inside an index).
    public var reason: String {
        switch self {
        case .unreadable(_, let reason): return reason
        case .notAModel: return "not a TwentyQ model (wrong magic number)"
        case .futureVersion(_, let found, let supported): return "a version \(found) model; this TwentyQ reads up to version \(supported)"
        case .truncated(_, let expected, let actual): return "truncated: \(actual) of \(expected) bytes"
        case .checksumMismatch: return "its checksum does not match"
        case .malformed(_, let detail): return "malformed: \(detail)"
        case .wrongKind(_, let found, let expected): return "a \(found) model where a \(expected) model belongs"
        }
    }
}

/// The model file format, version 1 (all integers and floats little-endian):
///
/// | bytes | content |
/// |---|---|
/// | 8 | magic "TWENTYQM" |
/// | 4 | format version (UInt32) |
/// | 8 | total file length (UInt64), so truncation is told apart from corruption |
/// | 4 + n | header length, then JSON: `{"config": ModelConfig, "terms": [String]}` |
/// | 4 V | IDF per term (Float32) |
/// | per layer (1 then 2) | rows Float32 scales, rows x rowWords UInt64 packed weights, Float32 biases |
/// | 4 | CRC-32 (IEEE) of every byte before it |
///
/// Version 2 is a vector model (`VectorEncoderModel`); text models are still written as
/// version 1, so older readers keep reading them:
///
/// | bytes | content |
/// |---|---|
/// | 8 + 4 + 8 | magic, version 2, total length |
/// | 4 + n | header length, then JSON: `{"kind": "vectors", "vectorConfig": VectorModelConfig}` |
/// | | version 3 only (`hidden` in the config): hidden Float32 row scales, hidden x rowWords UInt64 packed first layer |
/// | | bits Float32 row scales, bits x rowWords UInt64 packed projection, bits Float32 biases |
/// | 4 | CRC-32 |
///
/// Version 3 is a vector model of two layers (`VectorModelConfig.hidden`): the same layout with
/// the first layer before the projection. One-layer vector models are still written as version
/// 2, so older readers keep reading them, and tell a two-layer model from a damaged file.
///
/// Version 4 is a text model with query bits (`ModelConfig.projection`): version 1's layout
/// with 2^bucketBits Float32 IDFs (`LexicalProjection.idf`) after layer 2's biases. Text models
/// without query bits are still written as version 1.
public enum ModelFile {
    package static let magic = Array("TWENTYQM".utf8)
    /// The newest version this build reads (1 = text model, 2 = vector model, 3 = two-layer
    /// vector model, 4 = text model with query bits).
    public static let version: UInt32 = 4
    static let textVersion: UInt32 = 1
    static let projectedTextVersion: UInt32 = 4
    static let vectorVersion: UInt32 = 2
    static let twoLayerVectorVersion: UInt32 = 3

    struct Header: Codable {
        var config: ModelConfig
        var terms: [String]
    }

    /// The bytes of `model` in the file format.
    public static func encode(_ model: EncoderModel) throws -> [UInt8] {
        var body: [UInt8] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys] // same model, same bytes
        let header = try encoder.encode(Header(config: model.config, terms: model.vocabulary.terms))
        appendInteger(&body, UInt32(header.count))
        body += header
        appendFloats(&body, model.vocabulary.idf)
        for (layer, bias) in [(model.layer1, model.bias1), (model.layer2, model.bias2)] {
            appendPacked(&body, layer)
            appendFloats(&body, bias)
        }
        if let projection = model.projection { appendFloats(&body, projection.idf) }
        return frame(body, version: model.projection == nil ? textVersion : projectedTextVersion)
    }

    /// Magic, version, length, `body`, checksum.
    static func frame(_ body: [UInt8], version: UInt32) -> [UInt8] {
        var out = magic
        appendInteger(&out, version)
        appendInteger(&out, UInt64(magic.count + 4 + 8 + body.count + 4))
        out += body
        appendInteger(&out, CRC32.checksum(out))
        return out
    }

    /// Writes `model` to `path` atomically (a temporary file renamed into place).
    public static func write(_ model: EncoderModel, to path: String) throws {
        try Data(try encode(model)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a model file.
    /// - Throws: `ModelFileError` naming the problem.
    public static func read(_ path: String) throws -> EncoderModel {
        guard case .text(let model) = try readAny(path) else {
            throw ModelFileError.wrongKind(path: path, found: "vectors", expected: "text")
        }
        return model
    }

    /// Parses the bytes of a text model file; `path` only labels errors.
    public static func decode(_ bytes: [UInt8], path: String = "(memory)") throws -> EncoderModel {
        var (reader, found) = try open(bytes, path: path)
        guard isText(found) else { throw ModelFileError.wrongKind(path: path, found: "vectors", expected: "text") }
        return try decodeText(&reader, version: found, path: path)
    }

    /// Whether a file of `version` holds a text model.
    static func isText(_ version: UInt32) -> Bool { version == textVersion || version == projectedTextVersion
    }

    /// Checks magic, version, length and checksum; returns a reader at the header and the version.
    static func open(_ bytes: [UInt8], path: String) throws -> (Reader, UInt32) {
        guard bytes.count >= 8, Array(bytes[0..<8]) == magic else { throw ModelFileError.notAModel(path: path) }
        var reader = Reader(bytes: bytes, offset: 8, path: path)
        let found: UInt32 = try reader.integer()
        guard found <= version else { throw ModelFileError.futureVersion(path: path, found: found, supported: version) }
        let declaredLength: UInt64 = try reader.integer()
        // Magic, version, length and checksum alone take 24 bytes; a length past Int's range
        // (a damaged or hostile file) is reported, never converted.
        guard declaredLength >= 24, let declared = Int(exactly: declaredLength) else {
            throw ModelFileError.malformed(path: path, detail: "declared length \(declaredLength) is impossible")
        }
        guard bytes.count >= declared else { throw ModelFileError.truncated(path: path, expected: declared, actual: bytes.count) }
        guard bytes.count == declared else {
            throw ModelFileError.malformed(path: path, detail: "\(bytes.count - declared) bytes after the declared end")
        }
        let stored = UInt32(bytes[declared - 4]) | UInt32(bytes[declared - 3]) << 8 | UInt32(bytes[declared - 2]) << 16 | UInt32(bytes[declared - 1]) << 24
        guard CRC32.checksum(bytes[0 ..< declared - 4]) == stored else { throw ModelFileError.checksumMismatch(path: path) }
        return (reader, found)
    }

    /// The JSON header at the reader's position.
    static func header<H: Decodable>(_ type: H.Type, _ reader: inout Reader, path: String) throws -> H {
        let headerLength = Int(try reader.integer() as UInt32)
        do { return try JSONDecoder().decode(H.self, from: Data(try reader.bytes(headerLength))) } catch let error as ModelFileError {
            throw error
        } catch {
            throw ModelFileError.malformed(path: path, detail: "header: \(readable(error))")
        }
    }

    /// A JSON decoding failure in words (the field and what was wrong with it), not
    /// `DecodingError`'s dump of coding keys.
    static func readable(_ error: Error) -> String {
        func field(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: return "field '\(field(context.codingPath + [key]))' is missing"
        case .typeMismatch(let type, let context)?: return "field '\(field(context.codingPath))' is not \(type == String.self ? "a string" : "a value of type \(type)")"
        case .valueNotFound(let type, let context)?: return "field '\(field(context.codingPath))' is null, expected \(type)"
        case .dataCorrupted(let context)?:
            return context.codingPath.isEmpty ? "not valid JSON" : "field '\(field(context.codingPath))': \(context.debugDescription)"
        default: return "\(error)"
        }
    }

    static func decodeText(_ reader: inout Reader, version: UInt32, path: String) throws -> EncoderModel {
        let declared = reader.bytes.count
        let header = try textHeader(&reader, path: path)
        let config = header.config
        guard ModelConfig.supportedBits.contains(config.bits), ModelConfig.supportedHidden.contains(config.hidden), !header.terms.isEmpty else {
            throw ModelFileError.malformed(path: path, detail: "bits \(config.bits), hidden \(config.hidden), \(header.terms.count) terms")
        }
        guard (version == projectedTextVersion) == (config.projection != nil) else {
            throw ModelFileError.malformed(path: path, detail: version == projectedTextVersion ? "a version 4 model without query bits in its header" : "query bits in a version \(version) model")
        }
        if let p = config.projection {
            guard ProjectionConfig.supportedBits.contains(p.bits), ProjectionConfig.supportedBucketBits.contains(p.bucketBits),
                  ModelConfig.supportedBits.contains(config.bits + p.bits) else {
                throw ModelFileError.malformed(path: path, detail: "query bits \(p.bits) over 2^\(p.bucketBits) buckets after \(config.bits) trained bits (allowed \(ProjectionConfig.supportedBits) over 2^\(ProjectionConfig.supportedBucketBits), at most \(ModelConfig.supportedBits.upperBound) in all)")
            }
        }
        let f = config.featurizer
        guard Featurizer.supportedTokenLength.contains(f.maxTokenLength), Featurizer.supportedMaxTokens.contains(f.maxTokens) else {
            throw ModelFileError.malformed(path: path, detail: "featurizer maxTokenLength \(f.maxTokenLength), maxTokens \(f.maxTokens) (allowed \(Featurizer.supportedTokenLength), \(Featurizer.supportedMaxTokens))")
        }
        let idf = try reader.floats(header.terms.count)
        let layer1 = try reader.packed(config.weights, rows: header.terms.count, cols: config.hidden)
        let bias1 = try reader.floats(config.hidden)
        let layer2 = try reader.packed(config.weights, rows: config.bits, cols: config.hidden)
        let bias2 = try reader.floats(config.bits)
        let projection = try config.projection.map { LexicalProjection(config: $0, idf: try reader.floats(1 << $0.bucketBits)) }
        guard reader.offset == declared - 4 else {
            throw ModelFileError.malformed(path: path, detail: "sections end at byte \(reader.offset), checksum at \(declared - 4)")
        }
        return EncoderModel(config: config, vocabulary: Vocabulary(terms: header.terms, idf: idf),
                            layer1: layer1, bias1: bias1, layer2: layer2, bias2: bias2, projection: projection)
    }

    /// A short identifier of a model's bytes ("tqm-" + 16 hex digits of FNV-1a 64), stored in
    /// every index built with the model.
    public static func fingerprint(_ model: EncoderModel) throws -> String {
        fingerprint(bytes: try encode(model))
    }

    /// The fingerprint of a model file's bytes.
    public static func fingerprint(bytes: [UInt8]) -> String {
        "tqm-" + FNV1a.hex(FNV1a.hash(bytes))
    }

    static func appendInteger<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }

    static func appendFloats(_ out: inout [UInt8], _ values: [Float]) {
        for v in values { appendInteger(&out, v.bitPattern) }
    }

    /// A packed matrix as the file holds it: its row scales, then its packed rows.
    static func appendPacked(_ out: inout [UInt8], _ matrix: PackedMatrix) {
        appendFloats(&out, matrix.scales)
        for w in matrix.words { appendInteger(&out, w) }
    }

    struct Reader {
        let bytes: [UInt8]
        var offset: Int
        let path: String

        /// Every count read from the file passes through here or `count(_:times:)`: sizes are
        /// compared without overflow, so a hostile number is a `malformed` error, never a trap.
        mutating func bytes(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, n <= bytes.count - 4 - offset else {
                throw ModelFileError.malformed(path: path, detail: "a section runs past the end of the file")
            }
            defer { offset += n }
            return bytes[offset ..< offset + n]
        }

        mutating func integer<T: FixedWidthInteger>() throws -> T {
            let raw = try bytes(MemoryLayout<T>.size)
            var v: T = 0
            for (i, b) in raw.enumerated() { v |= T(b) << (8 * i) }
            return v
        }

        mutating func floats(_ n: Int) throws -> [Float] {
            try words32(n).map { Float(bitPattern: $0) }
        }

        /// `n * size` bytes, or a `malformed` error when the product overflows.
        func count(_ n: Int, times size: Int) throws -> Int {
            let (total, overflow) = n.multipliedReportingOverflow(by: size)
            guard n >= 0, !overflow else { throw ModelFileError.malformed(path: path, detail: "a section of \(n) x \(size) bytes") }
            return total
        }

        /// `n` little-endian UInt64s in one copy.
        mutating func words(_ n: Int) throws -> [UInt64] {
            let raw = try bytes(try count(n, times: 8))
            var out = [UInt64](repeating: 0, count: n)
            out.withUnsafeMutableBytes { dst in raw.withUnsafeBytes { dst.copyMemory(from: $0) } }
            return out.map { UInt64(littleEndian: $0) }
        }

        /// A packed matrix written by `appendPacked`.
        mutating func packed(_ format: WeightFormat, rows: Int, cols: Int) throws -> PackedMatrix {
            guard (1...(1 << 24)).contains(rows), (1...(1 << 24)).contains(cols) else {
                throw ModelFileError.malformed(path: path, detail: "a \(rows) x \(cols) weight matrix")
            }
            let scales = try floats(rows)
            let words = try words(try count(rows, times: PackedMatrix.rowWords(format: format, cols: cols)))
            return PackedMatrix(format: format, rows: rows, cols: cols, scales: scales, words: words)
        }

        /// `n` little-endian UInt32s in one copy.
        mutating func words32(_ n: Int) throws -> [UInt32] {
            let raw = try bytes(try count(n, times: 4))
            var out = [UInt32](repeating: 0, count: n)
            out.withUnsafeMutableBytes { dst in raw.withUnsafeBytes { dst.copyMemory(from: $0) } }
            return out.map { UInt32(littleEndian: $0) }
        }
    }
}
