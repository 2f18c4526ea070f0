import Foundation
import Ingest

// NumPy .npy files (format versions 1 to 3; float16, float32 or float64 elements).
extension VectorFile {
    static let npyMagic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    static func readNPY(_ bytes: [UInt8], path: String) throws -> VectorSet {
        guard bytes.count >= 10 else { throw VectorFileError.truncated(path: path, row: 0, detail: "the .npy header is cut short") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw VectorFileError.truncated(path: path, row: 0, detail: "the .npy header is cut short") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw VectorFileError.malformed(path: path, detail: ".npy format version \(major) is not supported (1 to 3 are)")
        }
        guard headerStart + headerLength <= bytes.count else {
            throw VectorFileError.truncated(path: path, row: 0, detail: "the .npy header is cut short")
        }
        let header = String(decoding: bytes[headerStart ..< headerStart + headerLength], as: UTF8.self)
        guard let descr = npyField(header, "descr"), let order = npyField(header, "fortran_order"), let shapeText = npyField(header, "shape") else {
            throw VectorFileError.malformed(path: path, detail: "the .npy header lacks descr, fortran_order or shape: \(header.prefix(120))")
        }
        let dtype = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        let shape = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.compactMap { Int($0) }
        guard shape.count == 2 else {
            throw VectorFileError.malformed(path: path, detail: "shape \(shapeText) is not 2-D; save the vectors as one (rows, dimensions) array")
        }
        let (rows, dims) = (shape[0], shape[1])
        guard rows > 0 else { throw VectorFileError.empty(path: path) }
        guard dims > 0 else { throw VectorFileError.malformed(path: path, detail: "shape \(shapeText) has no dimensions") }
        let bigEndian = dtype.hasPrefix(">")
        let kind = dtype.drop(while: { "<>|=".contains($0) })
        let size: Int
        switch kind {
        case "f2": size = 2
        case "f4": size = 4
        case "f8": size = 8
        default:
            throw VectorFileError.malformed(path: path, detail: "dtype \(dtype) is not supported; convert with arr.astype('float32')")
        }
        // The shape is checked against the file before any product is used: a hostile shape
        // (rows or dimensions near Int.max) is an error naming it, never an overflow trap.
        guard VectorModelConfig.supportedDimensions.contains(dims) else {
            throw VectorFileError.malformed(path: path, detail: "shape \(shapeText): \(dims) dimensions; at most \(VectorModelConfig.supportedDimensions.upperBound) are supported")
        }
        let start = headerStart + headerLength
        let available = bytes.count - start
        let (values64, o1) = rows.multipliedReportingOverflow(by: dims)
        let (needed, o2) = values64.multipliedReportingOverflow(by: size)
        if o1 || o2 || available < needed {
            let wholeRows = available / (dims * size)
            throw VectorFileError.truncated(path: path, row: wholeRows,
                                            detail: "\(available) data bytes for \(rows) x \(dims) values of \(size) bytes")
        }
        var values = [Float](repeating: 0, count: rows * dims)
        bytes.withUnsafeBytes { raw in
            let base = start
            for i in 0 ..< rows * dims {
                let o = base + i * size
                let v: Float
                switch size {
                case 2:
                    let bits = raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)
                    v = Float(halfBits: bigEndian ? UInt16(bigEndian: bits) : UInt16(littleEndian: bits))
                case 4:
                    let bits = raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)
                    v = Float(bitPattern: bigEndian ? UInt32(bigEndian: bits) : UInt32(littleEndian: bits))
                default:
                    let bits = raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)
                    v = Float(Double(bitPattern: bigEndian ? UInt64(bigEndian: bits) : UInt64(littleEndian: bits)))
                }
                values[i] = v
            }
        }
        if order.contains("True") {
            // Column-major: element (r, c) is at c * rows + r.
            var rowMajor = [Float](repeating: 0, count: rows * dims)
            for r in 0..<rows { for c in 0..<dims { rowMajor[r * dims + c] = values[c * rows + r] } }
            values = rowMajor
        }
        return VectorSet(dimensions: dims, values: values)
    }

    /// The text of `key`'s value in a .npy header dict (up to the next top-level comma).
    static func npyField(_ header: String, _ key: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
        var rest = header[keyRange.upperBound...].drop(while: { $0 == " " || $0 == ":" })
        var depth = 0, out = ""
        while let ch = rest.first {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1; if depth == 0 { out.append(ch); break } }
            if (ch == "," || ch == "}") && depth == 0 { break }
            out.append(ch)
            rest = rest.dropFirst()
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    /// The bytes of `set` as a version 1 .npy file of float32, C order.
    public static func npyBytes(_ set: VectorSet) -> [UInt8] {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(set.count), \(set.dimensions)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = npyMagic + [1, 0]
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { out += $0 }
        out += Array(header.utf8)
        for v in set.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    }
}

extension Float {
    /// The value of an IEEE 754 binary16 bit pattern.
    package init(halfBits h: UInt16) {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int(h >> 10) & 0x1f
        let mantissa = UInt32(h & 0x3ff)
        if exponent == 0x1f {
            self = Float(bitPattern: sign | 0x7f80_0000 | mantissa << 13)
        } else if exponent == 0 {
            // Zero or subnormal: mantissa x 2^-24.
            let magnitude = Float(mantissa) * 0x1p-24
            self = sign != 0 ? -magnitude : magnitude
        } else {
            self = Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
        }
    }

    /// The nearest IEEE 754 binary16 bit pattern (round to nearest even; overflow to infinity).
    public var halfBits: UInt16 {
        let bits = bitPattern
        let sign = UInt16(bits >> 16) & 0x8000
        let exponent = Int(bits >> 23 & 0xff) - 127 + 15
        let mantissa = bits & 0x7f_ffff
        if !isFinite { return sign | 0x7c00 | (isNaN ? 0x200 : 0) }
        if exponent >= 0x1f { return sign | 0x7c00 }
        if exponent <= 0 {
            // Subnormal or zero in binary16.
            if exponent < -10 { return sign }
            let m = mantissa | 0x80_0000
            let shift = UInt32(14 - exponent)
            var half = m >> shift
            let rem = m & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
            if rem > halfway || (rem == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(exponent) << 10 | mantissa >> 13
        let rem = mantissa & 0x1fff
        if rem > 0x1000 || (rem == 0x1000 && half & 1 == 1) { half += 1 }
        return sign | UInt16(half)
    }
}
