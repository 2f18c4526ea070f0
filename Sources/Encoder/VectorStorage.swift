/// How float vectors are kept beside their codes for rescoring.
///
/// | format | bytes per vector | layout |
/// |---|---|---|
/// | `int8` | 4 + d | Float32 scale s (max \|x\| / 127), then d Int8 values round(x / s) |
/// | `float16` | 2 d | IEEE binary16 |
/// | `float32` | 4 d | IEEE binary32 |
///
/// All little-endian. Vectors are stored as given, before any normalisation; cosine rescoring
/// divides by the stored vector's own norm.
public enum VectorStorage: String, Codable, CaseIterable, Sendable {
    case int8
    case float16
    case float32

    public func byteCount(dimensions d: Int) -> Int {
        switch self {
        case .int8: return 4 + d
        case .float16: return 2 * d
        case .float32: return 4 * d
        }
    }

    /// The stored form of `vector`.
    package func encode(_ vector: UnsafeBufferPointer<Float>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(byteCount(dimensions: vector.count))
        switch self {
        case .int8:
            let peak = vector.reduce(Float(0)) { max($0, abs($1)) }
            let scale: Float = peak > 0 ? peak / 127 : 1
            withUnsafeBytes(of: scale.bitPattern.littleEndian) { out += $0 }
            for v in vector { out.append(UInt8(bitPattern: Int8(max(-127, min(127, (v / scale).rounded()))))) }
        case .float16:
            for v in vector { withUnsafeBytes(of: v.halfBits.littleEndian) { out += $0 } }
        case .float32:
            for v in vector { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        }
        return out
    }

    public func encode(_ vector: [Float]) -> [UInt8] {
        vector.withUnsafeBufferPointer { encode($0) }
    }

    /// The vector a stored form stands for.
    package func decode(_ bytes: UnsafeRawBufferPointer, dimensions d: Int) -> [Float] {
        precondition(bytes.count == byteCount(dimensions: d))
        switch self {
        case .int8:
            let scale = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
            return (0..<d).map { Float(Int8(bitPattern: bytes[4 + $0])) * scale }
        case .float16:
            return (0..<d).map { Float(halfBits: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
        case .float32:
            return (0..<d).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    /// The similarity of `query` (already normalised for cosine) and a stored vector: the dot
    /// product, divided by the stored vector's norm for cosine.
    package func similarity(_ query: UnsafeBufferPointer<Float>, _ bytes: UnsafeRawBufferPointer, metric: VectorMetric) -> Float {
        let d = query.count
        var dot: Float = 0, norm: Float = 0
        switch self {
        case .int8:
            let scale = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
            var idot: Float = 0, inorm: Float = 0
            for i in 0..<d {
                let v = Float(Int8(bitPattern: bytes[4 + i]))
                idot += query[i] * v
                inorm += v * v
            }
            dot = idot * scale
            norm = inorm * scale * scale
        case .float16:
            for i in 0..<d {
                let v = Float(halfBits: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                dot += query[i] * v
                norm += v * v
            }
        case .float32:
            for i in 0..<d {
                let v = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                dot += query[i] * v
                norm += v * v
            }
        }
        guard metric == .cosine else { return dot }
        return norm > 0 ? dot / norm.squareRoot() : 0
    }
}

extension VectorMetric {
    /// `vector` prepared as a query: L2-normalised for cosine, as is for dot.
    public func prepare(_ vector: [Float]) -> [Float] {
        guard self == .cosine else { return vector }
        let norm = vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }
}
