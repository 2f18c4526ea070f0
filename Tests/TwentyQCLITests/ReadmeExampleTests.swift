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

    @Test func theReadmeQuotesTheExampleVerbatim() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let block = try #require(readme.components(separatedBy: "<!-- readme-example").dropFirst().first)
            .components(separatedBy: "```swift\n").dropFirst().first?.components(separatedBy: "```").first
        let readmeLines = try #require(block).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0 != "import TwentyQ" }
        let body = source.components(separatedBy: "func readmeExample(directory: String) throws {\n")[1]
            .components(separatedBy: "\n    }\n")[0]
        let bodyLines = body.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(readmeLines == bodyLines)
    }
}
