/// Minimal JSON text for the CLI's high-volume outputs (one line per query), where
/// JSONSerialization's cost per object dominated: strings escaped per RFC 8259.
enum JSONText {
    static func string(_ s: String) -> String {
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

    /// `{"query_id": ..., "results": [{"id": ..., "distance": ...}, ...]}`
    static func queryResult(queryID: String, hits: [(id: String, distance: Int)]) -> String {
        var out = "{\"query_id\":" + string(queryID) + ",\"results\":["
        for (i, hit) in hits.enumerated() {
            if i > 0 { out += "," }
            out += "{\"distance\":\(hit.distance),\"id\":" + string(hit.id) + "}"
        }
        return out + "]}"
    }
}
