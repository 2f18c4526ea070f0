import Foundation
import TestSupport
import Testing
import TwentyQ

/// The README's library example, compiled and run. The body of `readmeExample` must stay
/// identical to the README's block (checked below), so the README cannot drift from code that works.
@Suite struct ReadmeExampleTests {
    func readmeExample(directory: String) throws {
        // `directory`: any folder you may write to
        let index = try CodeIndex.create(at: directory + "/my-index", bits: 256)
        var rng = SeededGenerator(seed: 1)
        let codes = try (0..<1000).map { _ in try BinaryCode.random(bits: 256, using: &rng) }
        try index.add(codes.enumerated().map { IndexEntry(id: "doc-\($0.offset)", code: $0.element) })

        let query = try CodeMatrix(bits: 256, words: codes[42].words)
        let hits = try index.nearest(to: query, k: 5)[0]
        print(hits[0].id, hits[0].distance)                 // doc-42 0
        let near = try index.within(radius: 100, of: codes[42])
        print(near.count >= 1)                              // true
        try index.remove(ids: ["doc-42"])
    }

    @Test func theExampleRunsAndDoesWhatItSays() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        try readmeExample(directory: dir.path)
        let index = try CodeIndex.open(at: dir.path + "/my-index", readOnly: true)
        #expect(try index.count == 999)
        #expect(try index.code(for: "doc-42") == nil)
        #expect(try index.code(for: "doc-41") != nil)
    }

    /// The README and the DocC article on codes quote it.
    @Test(arguments: [("README.md", "<!-- readme-example"), ("Sources/TwentyQ/TwentyQ.docc/Codes.md", "<!-- docc-codes-example")])
    func theDocsQuoteTheExampleVerbatim(file: String, marker: String) throws {
        let doc = try #require(try Snippets.docLines(file, after: marker), "no example in \(file)")
        let body = try #require(try Snippets.bodyLines(#filePath, opening: "func readmeExample(directory: String) throws {"))
        #expect(doc == body, "\(file)")
    }
}
