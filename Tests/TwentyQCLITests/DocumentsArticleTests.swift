import Foundation
import TestSupport
import Testing
import TwentyQ

/// The DocC article on documents (Documents.md), compiled and run against the shipped model;
/// the article quotes `documentsExample` verbatim (checked below).
@Suite struct DocumentsArticleTests {
    func documentsExample(directory: String) throws -> [TextSearchResult] {
        // `directory`: any folder you may write to
        let index = try DocumentIndex.open(at: directory + "/manuals")
        try index.add([
            Document(id: "rebase", text: "git rebase replays your commits on top of another branch.", fields: ["title": "Rebasing"]),
            Document(id: "xslt", text: "Run xsltproc with a stylesheet to turn XML into HTML.", fields: ["title": "XSLT"]),
            Document(id: "leaks", text: "Valgrind's memcheck finds memory leaks in C programs.", fields: ["title": "Memory checking"]),
        ])
        let results = try index.search(texts: ["xsltproc stylesheet", "memcheck leaks"], k: 2)
        for result in results {
            let best = result.hits[0]
            print(best.id, best.fields["title"]!, result.lexicalOnly)  // xslt XSLT true (no word known to the model), leaks Memory checking false
        }
        index.ranking.rescoring = .none                           // the codes alone, no term statistics
        print(try index.search("memcheck leaks", k: 3).count)     // 3: every document has a code
        try index.forEachDocument { document in
            print(document.id, document.fields["title"]!)         // in slot order: rebase Rebasing, ...
            return true
        }
        return results
    }

    @Test func theArticleRunsAndDoesWhatItSays() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let results = try documentsExample(directory: dir.path)
        #expect(results.map { $0.hits[0].id } == ["xslt", "leaks"])
        #expect(results.map(\.lexicalOnly) == [true, false] && results.allSatisfy(\.usedTerms))
        #expect(results[0].hits[0].fields["title"] == "XSLT" && results[0].hits[0].fields["snippet"]?.hasPrefix("Run xsltproc") == true)
        let index = try DocumentIndex.open(at: dir.appending("manuals"), readOnly: true)
        var ids: [String] = []
        try index.forEachDocument { ids.append($0.id); return true }
        #expect(ids == ["rebase", "xslt", "leaks"])
    }

    func filesExample(folder: String, directory: String) throws -> DocumentIndex {
        // `folder`: a folder of documents; `directory`: any folder you may write to
        let index = try DocumentIndex.open(at: directory + "/files")
        var documents: [Document] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
            switch DocumentFile.read(folder + "/" + name) {
            case .text(let text, _, _):
                documents.append(Document(id: name, text: text, fields: ["path": folder + "/" + name]))
            case .skipped(let reason), .failed(let reason, _), .converterMissing(_, let reason, _):
                print("skipped", name, reason)                    // skipped photo.png binary
            }
        }
        try index.add(documents)
        print(try index.search("quokka census", k: 1)[0].id)      // notes.rtf
        return index
    }

    /// The article's files example on a folder of an RTF file, an HTML page, a gzipped text
    /// and a PNG: the three with text are indexed as their text, the image is skipped, and a
    /// search finds the RTF file by words inside its markup.
    @Test func theFilesExampleReadsEachKind() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let folder = dir.appending("docs")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try #"{\rtf1\ansi{\fonttbl{\f0 Helvetica;}}\f0 The \b quokka\b0  census of Rottnest.\par}"#
            .write(toFile: folder + "/notes.rtf", atomically: true, encoding: .utf8)
        try "<html><head><style>p{}</style></head><body><p>Wombat burrows &amp; tunnels</p></body></html>"
            .write(toFile: folder + "/page.html", atomically: true, encoding: .utf8)
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]).write(to: URL(fileURLWithPath: folder + "/photo.png"))
        try "Numbat termite diet".write(toFile: folder + "/diet.txt", atomically: true, encoding: .utf8)
        #expect(try runShell("gzip '\(folder)/diet.txt'").status == 0)
        let index = try filesExample(folder: folder, directory: dir.path)
        var texts: [String: String] = [:]
        try index.forEachDocument { texts[$0.id] = $0.fields["snippet"]; return true }
        #expect(texts == ["diet.txt.gz": "Numbat termite diet", "notes.rtf": "The quokka census of Rottnest.", "page.html": "Wombat burrows & tunnels"],
                "\(texts)")
        #expect(try index.search("quokka census", k: 1)[0].id == "notes.rtf")
        // In memory, by name: the same text as from the file.
        let rtf = try Data(contentsOf: URL(fileURLWithPath: folder + "/notes.rtf"))
        #expect(DocumentFile.read(rtf, name: "notes.rtf") == .text("The quokka census of Rottnest.\n", encoding: .utf8, cut: false))
        #expect(DocumentFile.read(folder + "/photo.png") == .skipped(reason: "binary"))
    }

    @Test func theFilesExampleIsQuotedVerbatim() throws {
        let article = try #require(try Snippets.docLines("Sources/TwentyQ/TwentyQ.docc/Documents.md", after: "<!-- docc-files-example"))
        let body = try #require(try Snippets.bodyLines(#filePath, opening: "func filesExample(folder: String, directory: String) throws -> DocumentIndex {",
                                                       end: "        return index"))
        #expect(article == body)
    }

    @Test func theArticleQuotesTheCodeVerbatim() throws {
        let article = try #require(try Snippets.docLines("Sources/TwentyQ/TwentyQ.docc/Documents.md", after: "<!-- docc-documents-example"))
        let body = try #require(try Snippets.bodyLines(#filePath, opening: "func documentsExample(directory: String) throws -> [TextSearchResult] {",
                                                       end: "        return results"))
        #expect(article == body)
    }
}
