import Foundation
import Ingest
import Testing
import TestSupport

/// `OfficeText` on small documents of each kind, made with `zip` from the XML such files hold.
@Suite struct OfficeTextTests {
    func text(_ members: [(String, String)], kind: OfficeText.Kind) throws -> String {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let path = dir.appending("doc.\(kind.rawValue)")
        #expect(try makeZip(members, at: path) == 0)
        return try OfficeText.text(Data(contentsOf: URL(fileURLWithPath: path)), kind: kind)
    }

    static func words(_ text: String) -> [String] { text.split(whereSeparator: \.isWhitespace).map(String.init) }

    @Test func wordJoinsItsRunsAndBreaksAtParagraphs() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="x"><w:body><w:p><w:r><w:t>Zorb</w:t></w:r><w:r><w:rPr><w:b/></w:rPr>\
        <w:t>lax</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve"> frobnicates</w:t></w:r></w:p><w:p><w:r><w:t>caf&#233; &amp; </w:t>\
        </w:r><!-- a comment --><w:r><w:t>more</w:t></w:r></w:p></w:body></w:document>
        """
        #expect(Self.words(try text([("word/document.xml", xml)], kind: .docx)) == ["Zorblax", "frobnicates", "café", "&", "more"])
        #expect(OfficeText.kind("a/report.docx") == .docx && OfficeText.kind("x.docx/notes") == nil && OfficeText.kind("notes.txt") == nil)
    }

    @Test func slidesComeInNumberOrder() throws {
        func slide(_ words: String) -> String { "<p:sld><a:p><a:r><a:t>\(words)</a:t></a:r></a:p></p:sld>" }
        let members = [("ppt/slides/slide10.xml", slide("ten")), ("ppt/slides/slide2.xml", slide("two")),
                       ("ppt/slides/slide1.xml", slide("one")), ("ppt/slideLayouts/slideLayout1.xml", slide("layout"))]
        #expect(Self.words(try text(members, kind: .pptx)) == ["one", "two", "ten"])
    }

    @Test func spreadsheetsAndOpenDocuments() throws {
        let strings = "<sst><si><t>Quarterly</t></si><si><r><t>rev</t></r><r><t>enue</t></r></si></sst>"
        #expect(Self.words(try text([("xl/sharedStrings.xml", strings)], kind: .xlsx)) == ["Quarterly", "revenue"])
        let content = "<office:document-content><office:body><office:text><text:h>Title</text:h><text:p>first<text:s/>para<text:tab/>graph</text:p>"
            + "<text:p>second</text:p></office:text></office:body></office:document-content>"
        #expect(Self.words(try text([("content.xml", content)], kind: .odt)) == ["Title", "first", "para", "graph", "second"])
    }

    /// An EPUB's chapters in spine order, not archive order; without a readable container,
    /// every XHTML member in archive order.
    @Test func anEpubReadsInSpineOrder() throws {
        let container = #"<container><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#
        let opf = #"<package><manifest><item id="c2" href="Text/two.xhtml"/><item id="c1" href="Text/one%20a.xhtml"/></manifest>"#
            + #"<spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>"#
        let members = [("mimetype", "application/epub+zip"), ("META-INF/container.xml", container), ("OEBPS/content.opf", opf),
                       ("OEBPS/Text/two.xhtml", "<html><body><p>Second chapter</p></body></html>"),
                       ("OEBPS/Text/one a.xhtml", "<html><head><style>p{}</style></head><body><p>First &amp; best</p></body></html>")]
        #expect(Self.words(try text(members, kind: .epub)) == ["First", "&", "best", "Second", "chapter"])
        #expect(Self.words(try text(members.filter { $0.0 != "META-INF/container.xml" }, kind: .epub)) == ["Second", "chapter", "First", "&", "best"])
    }

    @Test func aDocumentWithoutItsTextMemberIsRefused() throws {
        #expect(throws: ZipArchive.Failure.damaged("it holds no word/document.xml, which a .docx keeps its text in")) {
            _ = try text([("other.xml", "<x/>")], kind: .docx)
        }
    }
}
