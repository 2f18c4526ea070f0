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

    @Test func theArticleQuotesTheCodeVerbatim() throws {
        let article = try #require(try Snippets.docLines("Sources/TwentyQ/TwentyQ.docc/Documents.md", after: "<!-- docc-documents-example"))
        let body = try #require(try Snippets.bodyLines(#filePath, opening: "func documentsExample(directory: String) throws -> [TextSearchResult] {",
                                                       end: "        return results"))
        #expect(article == body)
    }
}
