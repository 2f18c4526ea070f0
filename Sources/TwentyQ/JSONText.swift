/// Minimal JSON text for high-volume paths (a document's stored fields, one output line per
/// query), where JSONSerialization's cost per object dominated: strings escaped per RFC 8259.
package enum JSONText {
    /// `s` as a JSON string literal.
    package static func string(_ s: String) -> String {
        // Most strings need no escape: then the literal is the text in quotes (bytes of
        // multi-byte UTF-8 sequences are all >= 0x80, so only ASCII can need one).
        let needsEscape = s.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }
        } ?? true
        if !needsEscape { return "\"" + s + "\"" }
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A flat object of strings, keys sorted.
    package static func object(_ fields: [String: String]) -> String {
        "{" + fields.keys.sorted().map { string($0) + ":" + string(fields[$0]!) }.joined(separator: ",") + "}"
    }

    /// `{"query_id": ..., "results": [{"id": ..., "distance": ..., "score": ...}, ...]}`, the
    /// score (and "bm25") when the hit has them.
    package static func queryResult(queryID: String, hits: [SearchHit]) -> String {
        "{\"query_id\":" + string(queryID) + "," + results(hits, singlePrecision: false) + "}"
    }

    /// As `queryResult` with the query's row number as its id; scores (exact similarities
    /// computed in Float) printed at Float's precision.
    package static func vectorQueryResult(queryRow: Int, hits: [SearchHit]) -> String {
        "{\"query_id\":\(queryRow)," + results(hits, singlePrecision: true) + "}"
    }

    private static func results(_ hits: [SearchHit], singlePrecision: Bool) -> String {
        var out = "\"results\":["
        for (i, hit) in hits.enumerated() {
            if i > 0 { out += "," }
            out += "{\"distance\":\(hit.distance),\"id\":" + string(hit.id)
            if let score = hit.score { out += singlePrecision ? ",\"score\":\(Float(score))" : ",\"score\":\(score)" }
            if let bm25 = hit.bm25 { out += ",\"bm25\":\(bm25)" }
            out += "}"
        }
        return out + "]"
    }
}
