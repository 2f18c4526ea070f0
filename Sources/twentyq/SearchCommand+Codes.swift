import ArgumentParser
import Foundation
import TwentyQ

/// Searching by a code: `--code HEX` on any index, and `--like ID` on an index of ready-made
/// codes (`index --codes`), which has no model to encode text with. Hamming distance alone:
/// there are no terms to rescore with.
extension SearchCommand {
    /// The index, opened, when this search goes by code: --code, or --like on an index
    /// without a model; nil otherwise.
    func indexSearchedByCode() throws -> CodeIndex? {
        guard code != nil || (like != nil && FileManager.default.fileExists(atPath: index.db + "/data.mdb")) else { return nil }
        let store = try CodeIndex.open(at: index.db, readOnly: true)
        if code != nil { return store }
        return try store.blob(DocumentIndex.modelKey) == nil ? store : nil
    }

    func searchCodes(_ store: CodeIndex) throws {
        let query: BinaryCode
        if let code {
            do { query = try BinaryCode(hex: code, bits: store.bits) } catch {
                throw InputError("--code: \(error) (the index holds \(store.bits)-bit codes: \(store.bits / 4) hex digits, as `export` writes them)")
            }
        } else {
            guard let found = try store.code(for: like!) else { throw IndexError.unknownID(like!) }
            query = found
        }
        let hits: [SearchHit]
        if let radius {
            guard radius <= store.bits else { throw ValidationError("--radius must be at most the code width, \(store.bits) (got \(radius))") }
            hits = try store.within(radius: radius, of: query)
        } else {
            var matrix = try CodeMatrix(bits: store.bits)
            try matrix.append(query)
            hits = try store.nearest(to: matrix, k: k)[0]
        }
        try printCodeHits(hits)
    }

    /// Prints hits found by code: rank, distance, id and fields (or one JSON object).
    func printCodeHits(_ hits: [SearchHit]) throws {
        if json {
            print(try jsonLine(["query": code.map { "code:" + $0 } ?? "like:" + like!,
                                "results": hits.map { hit -> [String: Any] in
                                    var o: [String: Any] = ["id": hit.id, "distance": hit.distance]
                                    if !hit.fields.isEmpty { o["fields"] = hit.fields }
                                    return o
                                }]))
            return
        }
        if hits.isEmpty { print("no results") }
        for (rank, hit) in hits.enumerated() {
            let fields = hit.fields.isEmpty ? "" : JSONText.object(hit.fields)
            print("\(rank + 1). d=\(hit.distance)  \(TerminalText.safe(hit.id))" + (fields.isEmpty ? "" : "  " + TerminalText.safe(String(fields.prefix(100)))))
        }
    }
}
