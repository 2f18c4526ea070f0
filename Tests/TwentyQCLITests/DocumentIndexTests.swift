import Foundation
import TestSupport
import Testing
import TwentyQ

@Suite struct DocumentIndexTests {
    /// Four threads search while one adds batches: every search sees a committed state (a
    /// whole number of batches, each document findable by its own text at distance 0).
    @Test func readersSearchWhileAWriterAdds() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = randomModel(bits: 128, hidden: 32)
        let index = try DocumentIndex.open(at: dir.appending("idx"), model: model)
        let words = ["space", "orbit", "god", "church", "car", "engine", "hockey", "game"]
        @Sendable func doc(_ i: Int) -> Document {
            Document(id: "d\(i)", text: (0..<5).map { words[($0 * 7 + i * 3 + i / 5) % words.count] }.joined(separator: " ") + " \(i)")
        }
        let batches = 40, batchSize = 50
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 5) { worker in
            if worker == 0 {
                for b in 0..<batches {
                    do { try index.add((0..<batchSize).map { doc(b * batchSize + $0) }, threads: 1) } catch { failures.add("add: \(error)") }
                }
                return
            }
            for round in 0..<60 {
                do {
                    let count = try index.count
                    if count % batchSize != 0 { failures.add("count \(count) is not whole batches") }
                    guard count > 0 else { continue }
                    let probe = (round * 37 + worker) % count
                    let hits = try index.search(doc(probe).text, k: 3)
                    if !hits.contains(where: { $0.distance == 0 }) { failures.add("d\(probe) not found at distance 0") }
                } catch {
                    failures.add("search: \(error)")
                }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        #expect(try index.count == batches * batchSize)
    }

    @Test func openingAnIndexWithoutAModelExplainsWhatItIs() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        try CodeIndex.create(at: dir.appending("codes"), bits: 64).add([IndexEntry(id: "a", code: try BinaryCode(zeroBits: 64))])
        #expect { try DocumentIndex.open(at: dir.appending("codes")) } throws: { "\($0)".contains("holds ready-made codes, not text documents") }
        #expect { try DocumentIndex.open(at: dir.appending("none"), readOnly: true) } throws: { "\($0)".contains("does not exist") }
    }
}

/// Thread-safe collection of failure messages.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ m: String) { lock.lock(); messages.append(m); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return messages }
}

@Suite struct StoredFieldsTests {
    @Test func fieldsRoundTripThroughTheirJSON() throws {
        let fields = ["snippet": "quote \" backslash \\ tab\t newline\n \u{01} ünï 日本", "path": "/a/b c.txt", "empty": ""]
        let text = JSONText.object(fields)
        let back = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(back == fields)
        #expect(text.hasPrefix("{\"empty\":\"\",\"path\""))  // keys sorted
    }

    @Test func snippetsFoldWhiteSpaceAndStopAt300Characters() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try DocumentIndex.open(at: dir.appending("idx"), model: randomModel())
        let long = "  first\n\n second\tthird   " + String(repeating: "é", count: 1_000)
        try index.add([Document(id: "a", text: long)])
        let snippet = try #require(try index.search(like: "a", k: 1).first?.fields["snippet"])
        #expect(snippet.hasPrefix("first second third ééé"))
        #expect(snippet.count == 300)
    }
}
