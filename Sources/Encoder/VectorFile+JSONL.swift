import Foundation
import Ingest

// JSONL vectors: one object per line with the vector and an optional id and fields.
extension VectorFile {
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
