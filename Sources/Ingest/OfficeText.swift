import Foundation

/// The text of office documents and e-books, which are ZIP archives of XML (`ZipArchive`):
/// - `.docx` (Word): `word/document.xml`, paragraphs `w:p`, runs `w:t`;
/// - `.pptx` (PowerPoint): `ppt/slides/slideN.xml` in slide order, paragraphs `a:p`;
/// - `.xlsx` (Excel): `xl/sharedStrings.xml`, the text of its cells;
/// - `.odt`, `.odp`, `.ods` (OpenDocument): `content.xml`, paragraphs and headings;
/// - `.epub`: the XHTML chapters in the order of the book's spine (`META-INF/container.xml`,
///   then its package document), each reduced as HTML is (`HTMLText`).
///
/// Word splits a word over several runs (`<w:t>Hel</w:t></w:r><w:r><w:t>lo</w:t>`) where spell
/// checking or an edit touched it, so tags are removed without a space (`XMLText.strip`) and
/// only the elements that end a paragraph or stand for a space or tab break words.
public enum OfficeText {
    public enum Kind: String, Sendable { case docx, pptx, xlsx, odt, odp, ods, epub }

    /// The kind named by the last extension of `path` (lower-cased), if any.
    public static func kind(_ path: String) -> Kind? {
        guard let dot = path.lastIndex(of: "."), !path[path.index(after: dot)...].contains("/") else { return nil }
        return Kind(rawValue: String(path[path.index(after: dot)...]))
    }

    /// The text of a document of `kind`.
    /// - Throws: `ZipArchive.Failure` when the archive or a member cannot be read, or lacks
    ///   the member its kind keeps the text in.
    public static func text(_ data: Data, kind: Kind) throws(ZipArchive.Failure) -> String {
        let zip = try ZipArchive(data)
        func read(_ name: String) throws(ZipArchive.Failure) -> String {
            guard let member = zip.member(name) else { throw .damaged("it holds no \(name), which a .\(kind.rawValue) keeps its text in") }
            return String(decoding: try zip.contents(of: member), as: UTF8.self)
        }
        switch kind {
        case .docx:
            return XMLText.strip(try read("word/document.xml"), breaks: ["w:p", "w:br", "w:cr", "w:tab"])
        case .xlsx:
            return XMLText.strip(try read("xl/sharedStrings.xml"), breaks: ["si"])
        case .pptx:
            // slide1.xml, slide2.xml, ... in number order (not name order: slide10 after slide9).
            let slides = zip.members.compactMap { member -> (Int, ZipArchive.Member)? in
                guard member.name.hasPrefix("ppt/slides/slide"), member.name.hasSuffix(".xml"),
                      let n = Int(member.name.dropFirst("ppt/slides/slide".count).dropLast(4)) else { return nil }
                return (n, member)
            }.sorted { $0.0 < $1.0 }
            var parts: [String] = []
            for (_, member) in slides {
                parts.append(XMLText.strip(String(decoding: try zip.contents(of: member), as: UTF8.self), breaks: ["a:p", "a:br"]))
            }
            return parts.joined(separator: "\n")
        case .odt, .odp, .ods:
            return XMLText.strip(try read("content.xml"), breaks: ["text:p", "text:h", "text:line-break", "text:tab", "text:s", "table:table-cell"])
        case .epub:
            var parts: [String] = []
            for name in epubChapters(zip) {
                guard let member = zip.member(name) else { continue }
                parts.append(HTMLText.strip(String(decoding: try zip.contents(of: member), as: UTF8.self)))
            }
            return parts.joined(separator: "\n")
        }
    }

    /// An EPUB's chapters in reading order: the package document named by
    /// `META-INF/container.xml`, its manifest's hrefs in its spine's order. When either cannot be
    /// read, every XHTML or HTML member in archive order.
    static func epubChapters(_ zip: ZipArchive) -> [String] {
        let everyPage = zip.members.map(\.name).filter { $0.hasSuffix(".xhtml") || $0.hasSuffix(".html") || $0.hasSuffix(".htm") }
        guard let container = zip.member("META-INF/container.xml"),
              let containerXML = try? String(decoding: zip.contents(of: container), as: UTF8.self),
              let packagePath = XMLText.attribute("full-path", ofFirst: "rootfile", in: containerXML),
              let package = zip.member(packagePath),
              let packageXML = try? String(decoding: zip.contents(of: package), as: UTF8.self) else { return everyPage }
        let base = packagePath.contains("/") ? String(packagePath[...packagePath.lastIndex(of: "/")!]) : ""
        var hrefs: [String: String] = [:]
        for item in XMLText.elements("item", in: packageXML) {
            if let id = item["id"], let href = item["href"] { hrefs[id] = href }
        }
        let spine = XMLText.elements("itemref", in: packageXML).compactMap { $0["idref"].flatMap { hrefs[$0] } }
        let chapters = spine.map { base + ($0.removingPercentEncoding ?? $0) }
        return chapters.isEmpty ? everyPage : chapters
    }
}

/// XML to text for documents whose words may be split over elements.
public enum XMLText {
    /// `xml` without its tags, comments and processing instructions, character references
    /// decoded; an element named in `breaks` (its start, end, or an empty one) becomes a line
    /// break, every other tag nothing.
    public static func strip(_ xml: String, breaks: Set<String>) -> String {
        var out = ""
        out.reserveCapacity(xml.utf8.count / 2)
        var i = xml.startIndex
        while let open = xml[i...].firstIndex(of: "<") {
            out += xml[i..<open]
            guard let close = xml[open...].firstIndex(of: ">") else { i = xml.endIndex; break }
            var name = xml[xml.index(after: open)..<close]
            if name.hasPrefix("!--"), let end = xml.range(of: "-->", range: open..<xml.endIndex) {
                i = end.upperBound
                continue
            }
            if name.hasPrefix("/") { name = name.dropFirst() }
            let element = name.prefix { $0 != " " && $0 != "/" && $0 != "\t" && $0 != "\n" && $0 != "\r" }
            if breaks.contains(String(element)) { out += "\n" }
            i = xml.index(after: close)
        }
        out += xml[i...]
        return HTMLText.decodeReferences(out)
    }

    /// The attributes of each start tag `<name ...>` of `xml` (prefixed names too: `opf:item`).
    static func elements(_ name: String, in xml: String) -> [[String: String]] {
        var out: [[String: String]] = []
        var i = xml.startIndex
        while let open = xml[i...].firstIndex(of: "<") {
            guard let close = xml[open...].firstIndex(of: ">") else { break }
            let tag = xml[xml.index(after: open)..<close]
            let tagName = tag.prefix { $0 != " " && $0 != "/" && $0 != "\t" && $0 != "\n" && $0 != "\r" }
            if tagName == name || tagName.hasSuffix(":" + name) { out.append(attributes(tag)) }
            i = xml.index(after: close)
        }
        return out
    }

    static func attribute(_ attribute: String, ofFirst element: String, in xml: String) -> String? {
        elements(element, in: xml).first?[attribute]
    }

    /// `key="value"` and `key='value'` pairs of a tag's text, references decoded.
    static func attributes(_ tag: Substring) -> [String: String] {
        var out: [String: String] = [:]
        var rest = tag
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).last.map(String.init) ?? ""
            var after = rest[rest.index(after: equals)...].drop { $0 == " " }
            guard let quote = after.first, quote == "\"" || quote == "'" else { rest = after; continue }
            after = after.dropFirst()
            guard let end = after.firstIndex(of: quote) else { break }
            out[key] = HTMLText.decodeReferences(String(after[..<end]))
            rest = after[after.index(after: end)...]
        }
        return out
    }
}
