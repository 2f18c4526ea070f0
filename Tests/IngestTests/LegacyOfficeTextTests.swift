import Foundation
import Ingest
import Testing

/// `LegacyOfficeText` through the real catdoc and xls2csv (Tools/setup.sh installs catdoc), on
/// files LibreOffice wrote (Tests/Fixtures/README.md).
@Suite struct LegacyOfficeTextTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static func fixture(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name)) }

    @Test func aWordDocumentGivesItsText() throws {
        let doc = try Self.fixture("legacy-memo.doc")
        #expect(LegacyOfficeText.kind("memo.doc", doc) == .doc)
        let text = try LegacyOfficeText.extract(doc, kind: .doc, path: nil)
        #expect(text == "Quarterly zorblax memo\nThe quokka census found café owners – 42 of them “happy”.\nwombat\t7\nnumbat\t9\nПривет from Kyiv.\n",
                "\(text.debugDescription)")
        // From the file on disk, the same.
        #expect(try LegacyOfficeText.extract(Data(), kind: .doc, path: Self.fixtures + "/legacy-memo.doc") == text)
    }

    @Test func anExcelWorkbookGivesItsCells() throws {
        let xls = try Self.fixture("legacy-sheet.xls")
        #expect(LegacyOfficeText.kind("sheet.xls", xls) == .xls)
        let text = try LegacyOfficeText.extract(xls, kind: .xls, path: nil)
        #expect(text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                == ["animal count", "platypus 3", "echidna, short-beaked 5", "café 1"], "\(text.debugDescription)")
    }

    /// catdoc writes a field's instruction before its result, the field marks as spaces: the
    /// instruction (keyword, switches, quoted arguments, the bookmark or name it refers to) goes,
    /// the result stays, other text is left, capitals in prose too.
    @Test func fieldInstructionsAreDropped() {
        let strip = LegacyOfficeText.withoutFieldInstructions
        #expect(strip(#"See  HYPERLINK "https://nodejs.org/" Node.js now"#) == "See    Node.js now")
        #expect(strip(#"as  HYPERLINK  \l "_Toc12" shown below"#) == "as    shown below")
        #expect(strip(#"x HYPERLINK "mailto:a@b.c" \o "tip text" Mail us"#) == "x   Mail us")
        #expect(strip(#"  TOC \o "1-3" \h \z \u  Intro 1"#) == "   Intro 1")
        #expect(strip(#"Intro  PAGEREF _Toc481 \h  3 and  REF _Ref12 \* MERGEFORMAT  Table 2"#) == "Intro   3 and   Table 2")
        #expect(strip(#"Page   PAGE   \* MERGEFORMAT  4  of   NUMPAGES  9"#) == "Page    4  of    9")
        #expect(strip(#"Figure   SEQ Figure \* ARABIC  1:   EMBED Equation.3   INCLUDEPICTURE "http://x/y.png" \* MERGEFORMATINET  "#) == "Figure    1:      ")
        let plain = "HYPERLINK is a Word field; \"quoted\" words stay.\nHYPERLINK\n\"on another line\"\nThe TOC and PAGE numbers, REF 12 in a sentence.\nA PAGEANT, REFERENCE  TOCSIN."
        #expect(strip(plain) == plain)
    }

    /// A document LibreOffice wrote with a table of contents, page numbers, cross-references
    /// and a caption (Tests/Fixtures/README.md): its text without their instructions.
    @Test func aWordDocumentWithFieldsGivesTheirResults() throws {
        let text = try LegacyOfficeText.extract(try Self.fixture("legacy-fields.doc"), kind: .doc, path: nil)
        let words = text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        #expect(words == "Contents Alpha chapter 1 Beta chapter 2 Alpha chapter Quokka census text. Page 1 of 1 . See 1 and Beta chapter . Figure 1 . Beta chapter More words about wombats.",
                "\(text.debugDescription)")
    }

    /// Only OLE compound documents named as Word or Excel files are taken: an RTF or text file
    /// named `.doc`, and other OLE files (`.msg`, `.ppt`), are not.
    @Test func onlyOLEFilesWithTheirNamesAreTaken() throws {
        let doc = try Self.fixture("legacy-memo.doc")
        #expect(LegacyOfficeText.kind("memo.dot", doc) == .doc && LegacyOfficeText.kind("book.xlt", doc) == .xls)
        #expect(LegacyOfficeText.kind("mail.msg", doc) == nil && LegacyOfficeText.kind("deck.ppt", doc) == nil)
        #expect(LegacyOfficeText.kind("memo.doc", Data(#"{\rtf1 x}"#.utf8)) == nil)
        #expect(LegacyOfficeText.kind("memo.doc", Data()) == nil)
    }

    /// A damaged file, a workbook given as a document and the reverse, random bytes behind the
    /// signature: an error naming the kind, never text of garbage, never a hang.
    @Test func damagedFilesAreRefused() throws {
        let doc = try Self.fixture("legacy-memo.doc"), xls = try Self.fixture("legacy-sheet.xls")
        var state: UInt64 = 9  // a seeded xorshift: the same bytes every run
        let junk = doc.prefix(8) + Data((0 ..< 3000).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 32)
        })
        for (data, kind) in [(doc.prefix(4000), LegacyOfficeText.Kind.doc), (junk, .doc), (xls, .doc),
                             (xls.prefix(3000), .xls), (junk, .xls), (doc, .xls)] {
            #expect(throws: LegacyOfficeText.Failure.unreadable(kind)) { try LegacyOfficeText.extract(Data(data), kind: kind, path: nil) }
        }
    }
}
