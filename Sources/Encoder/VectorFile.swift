import Foundation
import Ingest

/// Float vectors read from a file: `count` rows of `dimensions` Floats, row-major.
public struct VectorSet: Sendable {
    public var dimensions: Int
    /// Row-major values, `count * dimensions`.
    public var values: [Float]
    /// Ids given in the file (JSONL), or nil: then a row's id is its 0-based row number.
    public var ids: [String]?
    /// Per-row metadata (JSONL: the fields other than the id and the vector, as JSON), or nil.
    public var metadata: [[UInt8]]?

    public init(dimensions: Int, values: [Float], ids: [String]? = nil, metadata: [[UInt8]]? = nil) {
        precondition(dimensions > 0 && values.count % dimensions == 0)
        self.dimensions = dimensions
        self.values = values
        self.ids = ids
        self.metadata = metadata
    }

    public var count: Int { values.count / dimensions }

    /// Row `i` as an array.
    public func row(_ i: Int) -> [Float] { Array(values[i * dimensions ..< (i + 1) * dimensions]) }

    /// The id of row `i`: the file's id, else the row number.
    public func id(_ i: Int) -> String { ids?[i] ?? String(i) }
}

/// Errors reading vectors; each names the file, the row (0-based) where it applies, and what
/// to do.
public enum VectorFileError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case unknownFormat(path: String)
    case empty(path: String)
    case malformed(path: String, detail: String)
    case truncated(path: String, row: Int, detail: String)
    case wrongDimensions(path: String, row: Int, expected: Int, found: Int)
    case notFinite(path: String, row: Int, column: Int)
    case badLine(path: String, line: Int, detail: String)
    case idCount(path: String, ids: Int, vectors: Int)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .unknownFormat(let path):
            return "\(path): unknown vector format; use .npy (float32/float16, 2-D), .fvecs (TEXMEX) or .jsonl ({\"id\", \"vector\"} per line)"
        case .empty(let path):
            return "\(path) holds no vectors"
        case .malformed(let path, let detail):
            return "\(path) is malformed: \(detail)"
        case .truncated(let path, let row, let detail):
            return "\(path) is truncated in row \(row): \(detail); copy or export it again"
        case .wrongDimensions(let path, let row, let expected, let found):
            return "\(path), row \(row): \(found) dimensions, expected \(expected) (as in the model or the earlier rows)"
        case .notFinite(let path, let row, let column):
            return "\(path), row \(row): value \(column) is NaN or infinite; remove or fix that vector"
        case .badLine(let path, let line, let detail):
            return "\(path), line \(line): \(detail)"
        case .idCount(let path, let ids, let vectors):
            return "\(path) has \(ids) ids for \(vectors) vectors; give one id per line, one line per vector"
        }
    }
}

/// Reads and writes float vectors in the formats people have them in:
///
/// - **npy** (NumPy's format, versions 1-3): 2-D, dtype float32 or float16 (also float64),
///   either byte order, C or Fortran order.
/// - **fvecs** (TEXMEX): per vector an Int32 dimension count then that many Float32s, little-endian.
/// - **JSONL**: one object per line with `"vector": [numbers]` and an `"id"` (string or integer);
///   other fields are kept as metadata. Blank lines are skipped.
///
/// The format is chosen by the file's first bytes (npy's magic, a `{`), else by its extension.
/// Rows are numbered from 0 in errors, as in ids made from row numbers. Every value must be
/// finite.
public enum VectorFile {
    public enum Format: String, Sendable {
        case npy, fvecs, jsonl
    }

    /// Reads `path`; `dimensions`, when given, is checked for every row.
    public static func read(_ path: String, dimensions: Int? = nil) throws -> VectorSet {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw VectorFileError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        return try decode([UInt8](data), path: path, dimensions: dimensions)
    }

    /// Parses the bytes of a vector file (format by content, as `read`); `path` only labels errors.
    public static func decode(_ bytes: [UInt8], path: String = "(memory)", dimensions: Int? = nil) throws -> VectorSet {
        guard !bytes.isEmpty else { throw VectorFileError.empty(path: path) }
        let set: VectorSet
        switch try format(of: bytes, path: path) {
        case .npy: set = try readNPY(bytes, path: path)
        case .fvecs: set = try readFvecs(bytes, path: path)
        case .jsonl: set = try readJSONL(bytes, path: path)
        }
        if let dimensions, set.dimensions != dimensions {
            throw VectorFileError.wrongDimensions(path: path, row: 0, expected: dimensions, found: set.dimensions)
        }
        try checkFinite(set, path: path)
        return set
    }

    /// Reads one id per line (trailing empty line allowed) and checks there is one per vector.
    public static func readIDs(_ path: String, count: Int) throws -> [String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw VectorFileError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        // Split on any line break: in Swift "\r\n" is one Character, so splitting on "\n" alone
        // saw a CRLF file as a single line.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.count == count else { throw VectorFileError.idCount(path: path, ids: lines.count, vectors: count) }
        if let empty = lines.firstIndex(of: "") {
            throw VectorFileError.badLine(path: path, line: empty + 1, detail: "empty id")
        }
        return lines
    }

    static func format(of bytes: [UInt8], path: String) throws -> Format {
        if bytes.starts(with: npyMagic) { return .npy }
        if let first = bytes.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }), first == UInt8(ascii: "{") { return .jsonl }
        switch (path as NSString).pathExtension.lowercased() {
        case "fvecs": return .fvecs
        case "npy": return .npy
        case "jsonl", "ndjson", "json": return .jsonl
        default:
            // fvecs has no magic: accept a file whose first Int32 is a plausible dimension count
            // and whose length is a whole number of such rows.
            if bytes.count >= 8 {
                let d = Int(Int32(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
                if d > 0, d <= 1 << 16, bytes.count % (4 * (d + 1)) == 0 { return .fvecs }
            }
            throw VectorFileError.unknownFormat(path: path)
        }
    }

    static func checkFinite(_ set: VectorSet, path: String) throws {
        try set.values.withUnsafeBufferPointer { v in
            for i in 0..<v.count where !v[i].isFinite {
                throw VectorFileError.notFinite(path: path, row: i / set.dimensions, column: i % set.dimensions)
            }
        }
    }

    // MARK: fvecs

    static func readFvecs(_ bytes: [UInt8], path: String) throws -> VectorSet {
        var values: [Float] = []
        var dimensions = 0
        var offset = 0, row = 0
        try bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                guard offset + 4 <= raw.count else {
                    throw VectorFileError.truncated(path: path, row: row, detail: "\(raw.count - offset) bytes where a 4-byte dimension count should be")
                }
                let d = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
                if row == 0 {
                    guard d > 0, d <= 1 << 16 else {
                        throw VectorFileError.malformed(path: path, detail: "row 0 declares \(d) dimensions; not an fvecs file?")
                    }
                    dimensions = d
                    values.reserveCapacity(raw.count / (4 * (d + 1)) * d)
                } else if d != dimensions {
                    throw VectorFileError.wrongDimensions(path: path, row: row, expected: dimensions, found: d)
                }
                guard offset + 4 + 4 * d <= raw.count else {
                    throw VectorFileError.truncated(path: path, row: row, detail: "\((raw.count - offset - 4) / 4) of \(d) values present")
                }
                for j in 0..<d {
                    values.append(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 + 4 * j, as: UInt32.self))))
                }
                offset += 4 + 4 * d
                row += 1
            }
        }
        return VectorSet(dimensions: dimensions, values: values)
    }

    /// The bytes of `set` as fvecs.
    public static func fvecsBytes(_ set: VectorSet) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(set.count * 4 * (set.dimensions + 1))
        for i in 0..<set.count {
            withUnsafeBytes(of: Int32(set.dimensions).littleEndian) { out += $0 }
            for v in set.values[i * set.dimensions ..< (i + 1) * set.dimensions] {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 }
            }
        }
        return out
    }

    // MARK: npy

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

    // MARK: JSONL

    static func readJSONL(_ bytes: [UInt8], path: String) throws -> VectorSet {
        var values: [Float] = []
        var ids: [String] = []
        var metadata: [[UInt8]] = []
        var dimensions = 0
        var lineNumber = 0
        var seen = Set<String>()
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { continue }
            let row = ids.count
            let object: [String: Any]
            do {
                guard let o = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                    throw VectorFileError.badLine(path: path, line: lineNumber, detail: "not a JSON object")
                }
                object = o
            } catch let error as VectorFileError { throw error } catch {
                throw VectorFileError.badLine(path: path, line: lineNumber, detail: "not valid JSON (row \(row))")
            }
            guard let vector = object["vector"] as? [Any] else {
                throw VectorFileError.badLine(path: path, line: lineNumber, detail: "no \"vector\" array (row \(row))")
            }
            guard let value = object["id"] else { throw VectorFileError.badLine(path: path, line: lineNumber, detail: "no \"id\" (row \(row))") }
            guard let id = JSONID.text(value) else {
                throw VectorFileError.badLine(path: path, line: lineNumber, detail: "\"id\" must be a string or an integer, not \(JSONID.describe(value)) (row \(row))")
            }
            guard !id.isEmpty else { throw VectorFileError.badLine(path: path, line: lineNumber, detail: "empty \"id\" (row \(row))") }
            guard seen.insert(id).inserted else {
                throw VectorFileError.badLine(path: path, line: lineNumber, detail: "id \"\(id)\" appears twice (row \(row))")
            }
            if row == 0 {
                guard !vector.isEmpty else { throw VectorFileError.badLine(path: path, line: lineNumber, detail: "empty \"vector\" (row 0)") }
                dimensions = vector.count
            } else if vector.count != dimensions {
                throw VectorFileError.wrongDimensions(path: path, row: row, expected: dimensions, found: vector.count)
            }
            for (j, element) in vector.enumerated() {
                guard let n = element as? NSNumber, !JSONID.isBoolean(n) else {
                    throw VectorFileError.badLine(path: path, line: lineNumber, detail: "vector element \(j) is not a number (row \(row))")
                }
                let v = n.floatValue
                guard v.isFinite else { throw VectorFileError.notFinite(path: path, row: row, column: j) }
                values.append(v)
            }
            ids.append(id)
            var rest = object
            rest["id"] = nil
            rest["vector"] = nil
            metadata.append(rest.isEmpty ? [] : Array((try? JSONSerialization.data(withJSONObject: rest, options: [.sortedKeys])) ?? Data()))
        }
        guard !ids.isEmpty else { throw VectorFileError.empty(path: path) }
        return VectorSet(dimensions: dimensions, values: values, ids: ids, metadata: metadata)
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

extension VectorFile {
    /// Reads a TEXMEX `.ivecs` file (ground-truth neighbour lists).
    public static func readIvecs(_ path: String) throws -> [[Int32]] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw VectorFileError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        // Same layout as fvecs: read as fvecs and reinterpret the values.
        let set = try readFvecs([UInt8](data), path: path)
        return (0..<set.count).map { r in set.values[r * set.dimensions ..< (r + 1) * set.dimensions].map { Int32(bitPattern: $0.bitPattern) } }
    }
}
