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

    /// catdoc writes a hyperlink field's instruction before its shown text: the instruction
    /// (with its switches and quoted arguments) goes, the shown text stays, other text is left.
    @Test func hyperlinkFieldInstructionsAreDropped() {
        #expect(LegacyOfficeText.withoutHyperlinkFields(#"See  HYPERLINK "https://nodejs.org/" Node.js now"#) == "See    Node.js now")
        #expect(LegacyOfficeText.withoutHyperlinkFields(#"as  HYPERLINK  \l "_Toc12" shown below"#) == "as    shown below")
        #expect(LegacyOfficeText.withoutHyperlinkFields(#"x HYPERLINK "mailto:a@b.c" \o "tip text" Mail us"#) == "x   Mail us")
        let plain = "HYPERLINK is a Word field; \"quoted\" words stay.\nHYPERLINK\n\"on another line\""
        #expect(LegacyOfficeText.withoutHyperlinkFields(plain) == plain)
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
