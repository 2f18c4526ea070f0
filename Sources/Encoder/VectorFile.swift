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
    /// A vector file's format, from its extension.
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
