import Foundation

/// A one-page PDF 1.4 file showing `text` (ASCII, without parentheses or backslashes) in
/// Helvetica: catalog, page tree, page, content stream and font, with a correct cross-reference
/// table, as a PDF writer makes it. For tests of PDF reading without a PDF in the repository.
public func minimalPDF(_ text: String) -> Data {
    let stream = "BT /F1 12 Tf 72 720 Td (\(text)) Tj ET"
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        "<< /Length \(stream.utf8.count) >>\nstream\n\(stream)\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    var out = Data("%PDF-1.4\n".utf8)
    var offsets: [Int] = []
    for (n, object) in objects.enumerated() {
        offsets.append(out.count)
        out += Data("\(n + 1) 0 obj\n\(object)\nendobj\n".utf8)
    }
    let xref = out.count
    out += Data("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8)
    for offset in offsets { out += Data((String(repeating: "0", count: 10 - String(offset).count) + "\(offset) 00000 n \n").utf8) }
    out += Data("trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n".utf8)
    return out
}
