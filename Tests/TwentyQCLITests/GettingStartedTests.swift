import Foundation
import TestSupport
import Testing
import TwentyQ

/// The DocC getting-started article's code, compiled and run against the shipped model; the
/// article must quote `gettingStarted` verbatim (checked below).
@Suite struct GettingStartedTests {
    func gettingStarted(directory: String) throws -> (AddSummary, AddSummary, [SearchHit], [SearchHit]) {
        // `directory`: any folder you may write to
        let index = try DocumentIndex.open(at: directory + "/notes")
        let report = try index.add([
            Document(id: "shuttle", text: "NASA launched the space shuttle into orbit from Florida."),
            Document(id: "hockey", text: "The hockey team won the game in overtime."),
            Document(id: "church", text: "The church choir sang hymns on Sunday morning."),
        ])
        print(report.added)                                   // 3
        let again = try index.add([Document(id: "hockey", text: "The hockey team won the game in overtime.")])
        print(again.unchanged)                                // 1: same text, nothing rewritten
        let hits = try index.search("space shuttle launch", k: 3)
        print(hits.map(\.id), hits.map(\.distance))
        let similar = try index.search(like: "hockey", k: 1)
        print(similar[0].id, similar[0].distance)             // hockey 0
        try index.remove(ids: ["church"])
        return (report, again, hits, similar)
    }

    @Test func theArticleRunsAndDoesWhatItSays() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let (report, again, hits, similar) = try gettingStarted(directory: dir.path)
        #expect(report == AddSummary(added: 3))
        #expect(again == AddSummary(unchanged: 1))
        #expect(hits.count == 3 && hits[0].id == "shuttle", "\(hits.map { ($0.id, $0.distance) })")
        #expect(similar[0].id == "hockey" && similar[0].distance == 0)
        #expect(try DocumentIndex.open(at: dir.path + "/notes").count == 2)
    }

    @Test func theArticleQuotesTheCodeVerbatim() throws {
        let article = try #require(try Snippets.docLines("Sources/TwentyQ/TwentyQ.docc/GettingStarted.md", after: "<!-- docc-example"))
        let body = try #require(try Snippets.bodyLines(#filePath, opening: "throws -> (AddSummary, AddSummary, [SearchHit], [SearchHit]) {",
                                                       end: "        return (report"))
        #expect(article == body)
    }
}
