import Foundation

/// A model file of either kind.
public enum AnyModel: Sendable {
    case text(EncoderModel)
    case vectors(VectorEncoderModel)
}

extension ModelFile {
    struct VectorHeader: Codable {
        var kind: String
        var vectorConfig: VectorModelConfig
    }

    /// The bytes of a vector model (format version 2; version 3 for two layers).
    public static func encode(_ model: VectorEncoderModel) throws -> [UInt8] {
        var body: [UInt8] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let header = try encoder.encode(VectorHeader(kind: "vectors", vectorConfig: model.config))
        appendInteger(&body, UInt32(header.count))
        body += header
        if let hiddenLayer = model.hiddenLayer { appendPacked(&body, hiddenLayer) }
        appendPacked(&body, model.projection)
        appendFloats(&body, model.bias)
        return frame(body, version: model.hiddenLayer == nil ? vectorVersion : twoLayerVectorVersion)
    }

    /// Writes a vector model to `path` atomically.
    public static func write(_ model: VectorEncoderModel, to path: String) throws {
        try Data(try encode(model)).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Reads a vector model file.
    /// - Throws: `ModelFileError`, `.wrongKind` for a text model.
    public static func readVectors(_ path: String) throws -> VectorEncoderModel {
        guard case .vectors(let model) = try readAny(path) else {
            throw ModelFileError.wrongKind(path: path, found: "text", expected: "vector")
        }
        return model
    }

    /// Reads a model file of either kind.
    public static func readAny(_ path: String) throws -> AnyModel {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ModelFileError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return try decodeAny([UInt8](data), path: path)
    }

    /// Parses a model file of either kind.
    public static func decodeAny(_ bytes: [UInt8], path: String = "(memory)") throws -> AnyModel {
        var (reader, found) = try open(bytes, path: path)
        if isText(found) { return .text(try decodeText(&reader, version: found, path: path)) }
        return .vectors(try decodeVectors(&reader, version: found, path: path))
    }

    static func decodeVectors(_ reader: inout Reader, version: UInt32, path: String) throws -> VectorEncoderModel {
        let declared = reader.bytes.count
        let header = try header(VectorHeader.self, &reader, path: path)
        let config = header.vectorConfig
        guard header.kind == "vectors" else { throw ModelFileError.malformed(path: path, detail: "unknown model kind \"\(header.kind)\"") }
        guard (config.hidden != nil) == (version == twoLayerVectorVersion) else {
            throw ModelFileError.malformed(path: path, detail: "a version \(version) vector model \(config.hidden == nil ? "without" : "with") a hidden layer")
        }
        guard VectorModelConfig.supportedBits.contains(config.bits), VectorModelConfig.supportedDimensions.contains(config.dimensions) else {
            throw ModelFileError.malformed(path: path, detail: "bits \(config.bits), dimensions \(config.dimensions)")
        }
        var hiddenLayer: PackedMatrix?
        if let hidden = config.hidden {
            guard VectorModelConfig.supportedHidden.contains(hidden) else {
                throw ModelFileError.malformed(path: path, detail: "hidden width \(hidden)")
            }
            hiddenLayer = try reader.packed(config.weights, rows: hidden, cols: config.dimensions)
        }
        let projection = try reader.packed(config.weights, rows: config.bits, cols: config.projectionInputs)
        let bias = try reader.floats(config.bits)
        guard reader.offset == declared - 4 else {
            throw ModelFileError.malformed(path: path, detail: "sections end at byte \(reader.offset), checksum at \(declared - 4)")
        }
        return VectorEncoderModel(config: config, projection: projection, bias: bias, hiddenLayer: hiddenLayer)
    }

    /// The fingerprint of a vector model.
    public static func fingerprint(_ model: VectorEncoderModel) throws -> String {
        fingerprint(bytes: try encode(model))
    }
}
