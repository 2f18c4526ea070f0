import Foundation
import Ingest
import Testing
import TestSupport

/// `PDFText` through the real `pdftotext` (Tools/setup.sh installs poppler-utils).
@Suite struct PDFTextTests {
    @Test func textComesOutOfAPDF() throws {
        #expect(PDFText.tool != nil, "pdftotext is missing: run Tools/setup.sh (poppler-utils)")
        let pdf = minimalPDF("Zorblax frobnicates the quuxifier")
        #expect(PDFText.isPDF("x.bin", pdf) && PDFText.isPDF("paper.pdf", Data()) && !PDFText.isPDF("notes.txt", Data("%PD".utf8)))
        // From data (a temporary file), and from the file itself.
        #expect(try PDFText.extract(pdf, path: nil).trimmingCharacters(in: .whitespacesAndNewlines) == "Zorblax frobnicates the quuxifier")
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        try pdf.write(to: URL(fileURLWithPath: dir.appending("a.pdf")))
        #expect(try PDFText.extract(Data(), path: dir.appending("a.pdf")).contains("frobnicates"))
    }

    @Test func aDamagedPDFIsRefused() throws {
        #expect(PDFText.tool != nil, "pdftotext is missing: run Tools/setup.sh (poppler-utils)")
        let pdf = minimalPDF("Zorblax frobnicates the quuxifier")
        for bytes in [pdf.prefix(40), Data("%PDF-1.4\nnot a pdf at all\n".utf8), Data()] {
            #expect(throws: PDFText.Failure.unreadable(status: 1)) { try PDFText.extract(Data(bytes), path: nil) }
        }
    }
}
