import Foundation
import TestSupport
import Testing
import TwentyQ

/// The kinds of file `index` reads from a folder (or by name), through the real binary:
/// gzipped files, encodings, manual pages, RTF, PDFs, office documents and e-books, legacy Word
/// and Excel files; and a large
/// folder read on all cores and taken in path order.
@Suite struct FileKindsCLITests {
    /// A temporary directory with a small random model and an empty folder `name` in it.
    static func fixture(_ name: String) throws -> (dir: TemporaryDirectory, model: String, folder: String) {
        let dir = try TemporaryDirectory()
        let model = dir.appending("m.tqm"), folder = dir.appending(name)
        try ModelFile.write(randomModel(bits: 64, hidden: 16), to: model)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return (dir, model, folder)
    }

    /// Each document's stored snippet, by id.
    static func snippets(_ db: String) throws -> [String: String] {
        var out: [String: String] = [:]
        try DocumentIndex.open(at: db, readOnly: true).forEachDocument { out[$0.id] = $0.fields["snippet"]; return true }
        return out
    }

    /// `index --json` of `folder` into `db` with `model`, which must succeed: its summary.
    static func index(_ folder: String, into db: String, model: String) throws -> [String: Any] {
        let r = try runTwentyQ(["index", "--db", db, "--model", model, "--json", folder])
        #expect(r.status == 0, "\(r.stderr)")
        return try parseJSONObject(r.stdout)
    }

    /// `index --json` of `folder` with PATH holding no converter (the binary named by its full
    /// path), which must succeed: its summary, and what it wrote on standard error.
    static func indexWithoutConverters(_ folder: String, into db: String, model: String) throws -> (summary: [String: Any], stderr: String) {
        let r = try runShell("PATH=/nonexistent '\(try twentyqBinary())' index --db '\(db)' --model '\(model)' --json '\(folder)'")
        #expect(r.status == 0, "\(r.stderr)")
        return (try parseJSONObject(r.stdout), r.stderr)
    }

    /// The id of `search`'s first result for `query`.
    static func top(_ db: String, _ query: String) throws -> String? {
        let r = try runTwentyQ(["search", "--db", db, "-k", "1", "--json", query])
        #expect(r.status == 0, "\(r.stderr)")
        return ((try parseJSONObject(r.stdout)["results"] as? [[String: Any]])?.first?["id"]) as? String
    }

    /// Any other `.gz` file is one document, read as the file without ".gz" would be
    /// (`README.gz` as text, `page.html.gz` reduced to text); a tarball's contents are binary;
    /// a damaged one is skipped in a folder ("bad gzip") and, given by name, an error naming it.
    @Test func gzippedTextFilesAreDocuments() throws {
        let (dir, model, folder) = try Self.fixture("f"); defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: folder + "/pkg", withIntermediateDirectories: true)
        try "Zorblax frobnicates the quuxifier.\n".write(toFile: folder + "/pkg/README", atomically: true, encoding: .utf8)
        try "<html><p>The &amp; hyperdrive manual</p></html>".write(toFile: folder + "/page.html", atomically: true, encoding: .utf8)
        try "NASA launched the shuttle into orbit.".write(toFile: folder + "/space.txt", atomically: true, encoding: .utf8)
        #expect(try runShell("cd '\(folder)' && tar cf bundle.tar space.txt && gzip pkg/README page.html bundle.tar").status == 0)
        #expect(try runShell("head -c 30 '\(folder)/pkg/README.gz' > '\(folder)/cut.gz'").status == 0)
        let db = dir.appending("idx")
        let summary = try Self.index(folder, into: db, model: model)
        #expect(summary["added"] as? Int == 3 && (summary["skipped_reasons"] as? [String: Int]) == ["binary": 1, "bad gzip": 1], "\(summary)")
        let texts = try Self.snippets(db)
        #expect(Set(texts.keys) == ["pkg/README.gz", "page.html.gz", "space.txt"], "\(texts)")
        #expect(texts["page.html.gz"] == "The & hyperdrive manual" && texts["pkg/README.gz"] == "Zorblax frobnicates the quuxifier.", "\(texts)")
        #expect(try Self.top(db, "frobnicates quuxifier") == "pkg/README.gz")
        #expect(try Self.top(db, "hyperdrive") == "page.html.gz")
        // Given by name, the damaged file stops the run before anything is written.
        var r = try runTwentyQ(["index", "--db", dir.appending("named"), "--model", model, folder + "/cut.gz"])
        #expect(r.status != 0 && r.stderr.contains("cut.gz: not a readable gzip file (it ends in the middle of its data)"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appending("named/data.mdb")))
        r = try runTwentyQ(["index", "--db", dir.appending("named"), "--model", model, "--skip-bad", "--json", folder + "/cut.gz", folder + "/pkg/README.gz"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try parseJSONObject(r.stdout)["added"] as? Int == 1, "\(r.stdout)")
    }

    /// A Latin-1 file (old changelogs, AUTHORS files, HTML pages) is read as
    /// Windows-1252 and a Notepad "Unicode" file as UTF-16, both counted in the summary; given by
    /// name too. Their words are found.
    @Test func latin1AndUTF16FilesAreRead() throws {
        let (dir, model, folder) = try Self.fixture("f"); defer { dir.remove() }
        // "Crème brûlée, 5 € – Müller" in Windows-1252.
        try Data([0x43, 0x72, 0xE8, 0x6D, 0x65, 0x20, 0x62, 0x72, 0xFB, 0x6C, 0xE9, 0x65, 0x2C, 0x20, 0x35, 0x20, 0x80, 0x20, 0x96, 0x20,
                  0x4D, 0xFC, 0x6C, 0x6C, 0x65, 0x72, 0x0A]).write(to: URL(fileURLWithPath: folder + "/old.txt"))
        try "Quokka census notes\r\n".data(using: .utf16LittleEndian).map { Data([0xFF, 0xFE]) + $0 }!
            .write(to: URL(fileURLWithPath: folder + "/notepad.txt"))
        try "plain words".write(toFile: folder + "/new.txt", atomically: true, encoding: .utf8)
        let db = dir.appending("idx")
        let summary = try Self.index(folder, into: db, model: model)
        #expect(summary["added"] as? Int == 3 && summary["skipped"] as? Int == 0, "\(summary)")
        #expect((summary["read_as"] as? [String: Int]) == ["Windows-1252": 1, "UTF-16": 1], "\(summary)")
        let snippets = try Self.snippets(db)
        #expect(snippets["old.txt"] == "Crème brûlée, 5 € – Müller" && snippets["notepad.txt"] == "Quokka census notes", "\(snippets)")
        #expect(try Self.top(db, "brûlée müller") == "old.txt")
        #expect(try Self.top(db, "quokka") == "notepad.txt")
        let r = try runTwentyQ(["index", "--db", dir.appending("named"), "--model", model, folder + "/old.txt"])
        #expect(r.status == 0 && r.stdout.contains("files not in UTF-8: 1 read as Windows-1252"), "\(r.stdout) \(r.stderr)")
    }

    /// A file of more text than `DocumentFile.textLimit` (a long log) is indexed as its
    /// beginning, and the summary counts it (`cut` in `--json`, a sentence in text); its first
    /// words are found, its last are not.
    @Test func aFileLargerThanTheTextLimitIsCountedAsCut() throws {
        let (dir, model, folder) = try Self.fixture("f"); defer { dir.remove() }
        var big = Data("quokka census begins the log\n".utf8)
        big += Data(repeating: UInt8(ascii: "x"), count: DocumentFile.textLimit) + Data(" zorblax ends it".utf8)
        try big.write(to: URL(fileURLWithPath: folder + "/huge.log"))
        try "plain words".write(toFile: folder + "/small.txt", atomically: true, encoding: .utf8)
        let summary = try Self.index(folder, into: dir.appending("idx"), model: model)
        #expect(summary["added"] as? Int == 2 && summary["cut"] as? Int == 1, "\(summary)")
        #expect(try Self.top(dir.appending("idx"), "quokka census") == "huge.log")
        #expect(try Self.top(dir.appending("idx"), "zorblax") == nil)     // past the cut
        let r = try runTwentyQ(["index", "--db", dir.appending("text"), "--model", model, folder])
        #expect(r.status == 0 && r.stdout.contains("; 1 file larger than 16 MiB of text indexed as its first 16 MiB"), "\(r.stdout) \(r.stderr)")
        let small = try runTwentyQ(["index", "--db", dir.appending("small"), "--model", model, "--json", folder + "/small.txt"])
        #expect(try parseJSONObject(small.stdout)["cut"] as? Int == 0, "\(small.stdout) \(small.stderr)")
    }

    /// A folder's files have ids relative to the folder: `--like` or `remove` with an id that is
    /// not stored names the stored ids that look meant (same file name, same path under a
    /// folder, same but for case), and removes nothing.
    @Test func anUnknownIDIsAnsweredWithTheIDsThatLookMeant() throws {
        let (dir, model, folder) = try Self.fixture("f"); defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: folder + "/docs", withIntermediateDirectories: true)
        try "Quokka census notes".write(toFile: folder + "/docs/README.md", atomically: true, encoding: .utf8)
        try "Wombat burrows".write(toFile: folder + "/Notes.txt", atomically: true, encoding: .utf8)
        let db = dir.appending("idx")
        _ = try Self.index(folder, into: db, model: model)
        var r = try runTwentyQ(["search", "--db", db, "--like", "README.md"])
        #expect(r.status == 1 && r.stderr.contains("no document with id 'README.md' in the index; ids are the names files were indexed by") && r.stderr.contains("did you mean 'docs/README.md'?"), "\(r.stderr)")
        r = try runTwentyQ(["remove", "--db", db, "docs/README.md", "notes.txt"])
        #expect(r.status == 1 && r.stderr.contains("no document with id 'notes.txt'") && r.stderr.contains("did you mean 'Notes.txt'?"), "\(r.stderr)")
        r = try runTwentyQ(["search", "--db", db, "--like", "elsewhere.md"])
        #expect(r.status == 1 && r.stderr.contains("no document with id 'elsewhere.md' in the index") && !r.stderr.contains("did you mean"), "\(r.stderr)")
        #expect(try Self.snippets(db).count == 2)                  // nothing was removed
    }

    /// An RTF file (by its first bytes, whatever its name: Word saves RTF as `.doc` too) is
    /// indexed as its text: the snippet holds neither the font table nor control words (read as
    /// plain text, "helvetica" and "ansicpg1252" were words of the document and `\'e9` was not
    /// "é"); a text file that only mentions RTF further in stays as it is; RTF in a `.gz` is read
    /// the same.
    @Test func rtfFilesAreReadAsTheirText() throws {
        let (dir, model, folder) = try Self.fixture("rtf"); defer { dir.remove() }
        let rtf = #"{\rtf1\ansi\ansicpg1252{\fonttbl{\f0\fswiss Helvetica;}}\f0 Notes on the \b zorblax\b0  caf\'e9\par Second line.}"#
        try rtf.write(toFile: folder + "/notes.rtf", atomically: true, encoding: .utf8)
        try rtf.replacingOccurrences(of: "zorblax", with: "quokka").write(toFile: folder + "/saved.doc", atomically: true, encoding: .utf8)
        try #"About RTF: a file begins {\rtf1 and so on."#.write(toFile: folder + "/about.txt", atomically: true, encoding: .utf8)
        try rtf.replacingOccurrences(of: "zorblax", with: "wombat").write(toFile: folder + "/packed.rtf", atomically: true, encoding: .utf8)
        #expect(try runShell("gzip '\(folder)/packed.rtf'").status == 0)
        let db = dir.appending("idx")
        let summary = try Self.index(folder, into: db, model: model)
        #expect(summary["added"] as? Int == 4 && summary["skipped"] as? Int == 0, "\(summary)")
        let snippets = try Self.snippets(db)
        #expect(snippets == ["notes.rtf": "Notes on the zorblax café Second line.", "saved.doc": "Notes on the quokka café Second line.",
                             "packed.rtf.gz": "Notes on the wombat café Second line.", "about.txt": #"About RTF: a file begins {\rtf1 and so on."#],
                "\(snippets)")
        #expect(try Self.top(db, "zorblax") == "notes.rtf")
        #expect(try Self.top(db, "quokka") == "saved.doc")
        #expect(try Self.top(db, "wombat") == "packed.rtf.gz")
    }

    /// A manual page (gzipped or not) is indexed as the text `man` shows: a bold word is found
    /// (it was glued to its font escape, `\fBzorblax` -> "fbzorblax") and the snippet starts
    /// with the page's title, not its roff comments. A log rotated to `.1` is left as it is.
    @Test func manualPagesAreReadAsTheirText() throws {
        let (dir, model, folder) = try Self.fixture("man"); defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: folder + "/man1", withIntermediateDirectories: true)
        try #"""
        .\" Generated by hand for this test.
        .TH FROB 1 "May 2026" "frob 1.0" "User Commands"
        .SH NAME
        frob \- adjust the widgets
        .SH DESCRIPTION
        Runs \fBzorblax\fR on each \fIwidget\fR \(em twice.
        """#.write(toFile: folder + "/man1/frob.1", atomically: true, encoding: .utf8)
        #expect(try runShell("gzip '\(folder)/man1/frob.1'").status == 0)
        let log = "Dec  1 03:00:01 host cron[1]: \\fBkept as is\n.TH is not a page here\n"
        try log.write(toFile: folder + "/cron.1", atomically: true, encoding: .utf8)
        let db = dir.appending("idx")
        _ = try Self.index(folder, into: db, model: model)
        let snippets = try Self.snippets(db)
        #expect(snippets["man1/frob.1.gz"] == "FROB 1 May 2026 frob 1.0 User Commands NAME frob - adjust the widgets DESCRIPTION Runs zorblax on each widget -- twice.",
                "\(snippets)")
        #expect(snippets["cron.1"] == "Dec 1 03:00:01 host cron[1]: \\fBkept as is .TH is not a page here", "\(snippets)")
        #expect(try Self.top(db, "zorblax") == "man1/frob.1.gz")
    }

    /// PDF files are read by pdftotext (gzipped too); a damaged one is skipped in a folder and
    /// an error by name; without pdftotext on PATH, a folder's PDFs are skipped and counted with
    /// one warning telling what to install, and a PDF named directly is an error saying so.
    @Test func pdfFilesAreReadByPdftotext() throws {
        let (dir, model, folder) = try Self.fixture("papers"); defer { dir.remove() }
        try minimalPDF("Zorblax frobnicates the quuxifier").write(to: URL(fileURLWithPath: folder + "/paper.pdf"))
        try minimalPDF("Hyperdrive maintenance schedule").write(to: URL(fileURLWithPath: folder + "/manual.PDF"))
        #expect(try runShell("gzip '\(folder)/manual.PDF'").status == 0)
        try minimalPDF("cut short").prefix(60).write(to: URL(fileURLWithPath: folder + "/cut.pdf"))
        try minimalPDF("").write(to: URL(fileURLWithPath: folder + "/scan.pdf"))  // pages without text
        try "plain notes".write(toFile: folder + "/notes.txt", atomically: true, encoding: .utf8)
        let db = dir.appending("idx")
        let summary = try Self.index(folder, into: db, model: model)
        #expect(summary["added"] as? Int == 3 && (summary["skipped_reasons"] as? [String: Int]) == ["bad PDF": 1, "PDF without text": 1], "\(summary)")
        let snippets = try Self.snippets(db)
        #expect(snippets["paper.pdf"] == "Zorblax frobnicates the quuxifier" && snippets["manual.PDF.gz"] == "Hyperdrive maintenance schedule",
                "\(snippets)")
        #expect(try Self.top(db, "quuxifier") == "paper.pdf")
        var r = try runTwentyQ(["index", "--db", dir.appending("named"), "--model", model, folder + "/cut.pdf"])
        #expect(r.status != 0 && r.stderr.contains("cut.pdf: pdftotext cannot open this PDF (damaged, or encrypted with a password)"), "\(r.stderr)")

        // No pdftotext on PATH.
        let bare = try Self.indexWithoutConverters(folder, into: dir.appending("bare"), model: model)
        #expect(bare.summary["added"] as? Int == 1 && (bare.summary["skipped_reasons"] as? [String: Int]) == ["PDF (no pdftotext)": 4], "\(bare.summary)")
        #expect(bare.stderr.components(separatedBy: "which is not installed").count == 2, "\(bare.stderr)")
        let binary = try twentyqBinary()
        r = try runShell("PATH=/nonexistent '\(binary)' index --db '\(dir.appending("bare2"))' --model '\(model)' '\(folder)/paper.pdf'")
        #expect(r.status != 0 && r.stderr.contains("paper.pdf: PDF files are read by pdftotext, which is not installed: install poppler-utils"), "\(r.stderr)")
    }

    /// Office documents and e-books (ZIP archives of XML) are one document each, their text
    /// read in order; a damaged one is skipped in a folder ("bad .docx") and an error by name.
    @Test func officeDocumentsAndEbooksAreRead() throws {
        let (dir, model, folder) = try Self.fixture("office"); defer { dir.remove() }
        let word = "<w:document><w:body><w:p><w:r><w:t>Zorb</w:t></w:r><w:r><w:t>lax report</w:t></w:r></w:p></w:body></w:document>"
        #expect(try makeZip([("word/document.xml", word)], at: folder + "/report.docx") == 0)
        let container = #"<container><rootfiles><rootfile full-path="content.opf"/></rootfiles></container>"#
        let opf = #"<package><manifest><item id="a" href="a.xhtml"/></manifest><spine><itemref idref="a"/></spine></package>"#
        #expect(try makeZip([("mimetype", "application/epub+zip"), ("META-INF/container.xml", container), ("content.opf", opf),
                             ("a.xhtml", "<html><body><h1>Quokka</h1><p>census of the island</p></body></html>")], at: folder + "/book.epub") == 0)
        try Data(String(repeating: "not a zip at all ", count: 10).utf8).write(to: URL(fileURLWithPath: folder + "/broken.docx"))
        let db = dir.appending("idx")
        let summary = try Self.index(folder, into: db, model: model)
        #expect(summary["added"] as? Int == 2 && (summary["skipped_reasons"] as? [String: Int]) == ["bad .docx": 1], "\(summary)")
        let snippets = try Self.snippets(db)
        #expect(snippets == ["report.docx": "Zorblax report", "book.epub": "Quokka census of the island"], "\(snippets)")
        #expect(try Self.top(db, "zorblax") == "report.docx")
        let r = try runTwentyQ(["index", "--db", dir.appending("named"), "--model", model, folder + "/broken.docx"])
        #expect(r.status != 0 && r.stderr.contains("broken.docx: not a readable ZIP archive (no end of central directory)"), "\(r.stderr)")
    }

    /// Legacy Word and Excel files (OLE, 97-2003) are read by catdoc's tools, gzipped too; a
    /// damaged one is skipped in a folder ("bad .doc") and an error by name; other OLE files
    /// (a `.ppt`) stay binary; without the tools on PATH they are skipped and counted, each tool
    /// told once.
    @Test func legacyWordAndExcelFilesAreRead() throws {
        let (dir, model, folder) = try Self.fixture("legacy"); defer { dir.remove() }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path
        let doc = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/legacy-memo.doc"))
        try doc.write(to: URL(fileURLWithPath: folder + "/memo.doc"))
        try doc.write(to: URL(fileURLWithPath: folder + "/old.doc"))
        #expect(try runShell("gzip '\(folder)/old.doc'").status == 0)
        try Data(contentsOf: URL(fileURLWithPath: fixtures + "/legacy-sheet.xls")).write(to: URL(fileURLWithPath: folder + "/sheet.xls"))
        try doc.prefix(4000).write(to: URL(fileURLWithPath: folder + "/cut.doc"))
        try doc.write(to: URL(fileURLWithPath: folder + "/deck.ppt"))
        let db = dir.appending("idx")
        let summary = try Self.index(folder, into: db, model: model)
        #expect(summary["added"] as? Int == 3 && (summary["skipped_reasons"] as? [String: Int]) == ["bad .doc": 1, "binary": 1], "\(summary)")
        let snippets = try Self.snippets(db)
        let memo = "Quarterly zorblax memo The quokka census found café owners – 42 of them “happy”. wombat 7 numbat 9 Привет from Kyiv."
        #expect(snippets["memo.doc"] == memo && snippets["old.doc.gz"] == memo, "\(snippets)")
        #expect(snippets["sheet.xls"]?.hasPrefix("animal count platypus 3 echidna, short-beaked 5 café 1") == true, "\(snippets)")
        #expect(try Self.top(db, "platypus echidna") == "sheet.xls")
        let r = try runTwentyQ(["index", "--db", dir.appending("named"), "--model", model, folder + "/cut.doc"])
        #expect(r.status != 0 && r.stderr.contains("cut.doc: catdoc found no text in this .doc file (damaged, encrypted, or empty)"), "\(r.stderr)")

        // No catdoc or xls2csv on PATH.
        let bare = try Self.indexWithoutConverters(folder, into: dir.appending("bare"), model: model)
        #expect(bare.summary["added"] as? Int == 0
                && (bare.summary["skipped_reasons"] as? [String: Int]) == [".doc (no catdoc)": 3, ".xls (no xls2csv)": 1, "binary": 1], "\(bare.summary)")
        #expect(bare.stderr.components(separatedBy: "which is not installed: install catdoc").count == 3, "\(bare.stderr)")
    }

    /// A pdftotext that hangs, or writes without end, is stopped (`TWENTYQ_PDF_SECONDS`,
    /// `ExternalConverter.textLimit`) and its PDF skipped in a folder, an error by name: the index run
    /// neither hangs nor fills memory. Real pdftotext cannot be made to fail so on demand, so
    /// two stand-ins earlier on PATH play it: one sleeps, one runs `yes`.
    @Test func aHungOrEndlessPdftotextIsStopped() throws {
        let (dir, model, folder) = try Self.fixture("papers"); defer { dir.remove() }
        try minimalPDF("Zorblax frobnicates").write(to: URL(fileURLWithPath: folder + "/paper.pdf"))
        try "plain notes".write(toFile: folder + "/notes.txt", atomically: true, encoding: .utf8)
        let binary = try twentyqBinary()
        // Each stand-in can meet only its own limit, whatever the load: the sleeper writes
        // nothing (1 s limit), and `yes` gets an hour to write its 256 MiB.
        for (name, script, seconds, message) in [("hang", "exec sleep 600", 1, "pdftotext took more than 1 s over this PDF and was stopped"),
                                                 ("endless", "exec yes", 3_600, "pdftotext wrote more than 256 MiB of text for this PDF and was stopped")] {
            let tools = dir.appending("tools-\(name)")
            try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
            try "#!/bin/sh\n\(script)\n".write(toFile: tools + "/pdftotext", atomically: true, encoding: .utf8)
            #expect(chmod(tools + "/pdftotext", 0o755) == 0)
            let env = "PATH='\(tools)':\"$PATH\" TWENTYQ_PDF_SECONDS=\(seconds)"
            var r = try runShell("\(env) '\(binary)' index --db '\(dir.appending("idx-\(name)"))' --model '\(model)' --json '\(folder)'")
            #expect(r.status == 0, "\(r.stderr)")
            let summary = try parseJSONObject(r.stdout)
            #expect(summary["added"] as? Int == 1 && (summary["skipped_reasons"] as? [String: Int]) == ["bad PDF": 1], "\(summary)")
            r = try runShell("\(env) '\(binary)' index --db '\(dir.appending("named-\(name)"))' --model '\(model)' '\(folder)/paper.pdf'")
            #expect(r.status != 0 && r.stderr.contains(message), "\(r.stderr)")
        }
    }

    /// A folder's files are read in chunks on all cores (`DocumentSources.readChunk`), then
    /// taken in path order: over several chunks, with gzipped, binary, empty and JSONL files
    /// among them, the index holds the documents in path order, the counts are right, and
    /// each file's text is its own.
    @Test func aLargeFolderIsTakenInPathOrder() throws {
        let (dir, model, folder) = try Self.fixture("many"); defer { dir.remove() }
        var expected: [String] = []
        for n in 0..<200 {
            let name = String(format: "f%03d", n)
            switch n % 10 {
            case 3:
                try Data([0x50, 0, 1, 2]).write(to: URL(fileURLWithPath: "\(folder)/\(name).bin"))
            case 5:
                try "\n".write(toFile: "\(folder)/\(name).txt", atomically: true, encoding: .utf8)
            case 7:
                try "{\"id\": \"\(name)-a\", \"text\": \"line a of \(name)\"}\n{\"id\": \"\(name)-b\", \"text\": \"line b of \(name)\"}\n"
                    .write(toFile: "\(folder)/\(name).jsonl", atomically: true, encoding: .utf8)
                expected += ["\(name)-a", "\(name)-b"]
            case 9:
                try "text of \(name)".write(toFile: "\(folder)/\(name).txt", atomically: true, encoding: .utf8)
                #expect(try runShell("gzip '\(folder)/\(name).txt'").status == 0)
                expected.append("\(name).txt.gz")
            default:
                try "text of \(name)".write(toFile: "\(folder)/\(name).txt", atomically: true, encoding: .utf8)
                expected.append("\(name).txt")
            }
        }
        let db = dir.appending("idx")
        let summary = try Self.index(folder, into: db, model: model)
        #expect(summary["added"] as? Int == expected.count && (summary["skipped_reasons"] as? [String: Int]) == ["binary": 20, "empty": 20], "\(summary)")
        var ids: [String] = [], wrong: [String] = []
        try DocumentIndex.open(at: db, readOnly: true).forEachDocument { document in
            ids.append(document.id)
            let name = String(document.id.prefix(4))
            let want = document.id.hasSuffix("-a") || document.id.hasSuffix("-b") ? "line \(document.id.suffix(1)) of \(name)" : "text of \(name)"
            if document.fields["snippet"] != want { wrong.append(document.id) }
            return true
        }
        #expect(ids == expected)
        #expect(wrong.isEmpty, "\(wrong)")

        // Past --stream-over (0 MiB: from the first file) each file's text is let go after
        // checking and read again as it is indexed: the same index, to the codes and snippets.
        let streamed = dir.appending("streamed")
        let r = try runTwentyQ(["index", "--db", streamed, "--model", model, "--json", "--stream-over", "0", folder])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try parseJSONObject(r.stdout)["added"] as? Int == expected.count)
        func exported(_ db: String) throws -> String {
            let r = try runTwentyQ(["export", "--db", db])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout
        }
        #expect(try exported(streamed) == exported(db))
        #expect(try Self.snippets(streamed) == Self.snippets(db))
    }

    /// A file whose text is read again as it is indexed (past --stream-over) must give the text
    /// it gave when it was checked: a PDF whose converter answers differently the second time
    /// (a stand-in counting its runs) stops the run with an error naming the file, and the
    /// batches before it stay committed.
    @Test func aFileThatChangesBeforeItIsIndexedStopsTheRun() throws {
        let (dir, model, folder) = try Self.fixture("papers"); defer { dir.remove() }
        try "plain notes".write(toFile: folder + "/a-notes.txt", atomically: true, encoding: .utf8)
        try minimalPDF("ignored").write(to: URL(fileURLWithPath: folder + "/b-paper.pdf"))
        let tools = dir.appending("tools")
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        let counter = dir.appending("runs")
        try "#!/bin/sh\necho x >> '\(counter)'\necho \"reading number $(wc -l < '\(counter)')\"\n"
            .write(toFile: tools + "/pdftotext", atomically: true, encoding: .utf8)
        #expect(chmod(tools + "/pdftotext", 0o755) == 0)
        let binary = try twentyqBinary(), db = dir.appending("idx")
        let r = try runShell("PATH='\(tools)':\"$PATH\" '\(binary)' index --db '\(db)' --model '\(model)' --batch 1 --stream-over 0 '\(folder)'")
        #expect(r.status != 0 && r.stderr.contains("b-paper.pdf changed while it was being indexed"), "\(r.stderr)")
        #expect(try Self.snippets(db) == ["a-notes.txt": "plain notes"])
    }
}
