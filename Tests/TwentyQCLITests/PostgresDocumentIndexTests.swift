import Foundation
import TestSupport
import Testing
import TwentyQ
import TwentyQPostgres

/// The library's index of text documents over a real PostgreSQL 15 (`import TwentyQPostgres`):
/// the same answers as a `DocumentIndex` of the same documents and model, the model kept in the
/// database, and the refusals of `DocumentIndex` (another model, an index of codes, none there).
@Suite struct PostgresDocumentIndexTests {
    @Test func documentsInPostgreSQLAnswerAsADocumentIndex() async throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let pg = try TestPostgres(); defer { pg.stop() }
        let location = try PostgresLocation(url: pg.url)
        let model = randomModel(bits: 64, hidden: 32)
        let words = ["space", "nasa", "orbit", "launch", "god", "church", "car", "engine", "hockey", "game", "disk", "windows"]
        var rng = SeededGenerator(seed: 21)
        var documents = (0..<80).map { i in
            Document(id: "n\(i)", text: (0..<10).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " "), fields: ["i": "\(i)"])
        }
        documents.append(Document(id: "tool", text: "run xsltproc then valgrind memcheck on the launch engine"))

        await #expect(throws: IndexError.self) { try await PostgresDocumentIndex.open(at: location, name: "notes", create: false) }
        let index = try await PostgresDocumentIndex.open(at: location, name: "notes", model: model)
        #expect(try await index.add(documents, threads: 2) == AddSummary(added: 81))
        #expect(try await index.add(Array(documents.prefix(3))) == AddSummary(unchanged: 3))
        let local = try DocumentIndex.create(at: dir.appending("idx"), model: model)
        try local.add(documents, threads: 2)

        let queries = ["space launch", "church game xsltproc", "windows disk engine", "valgrind memcheck"]
        for rescoring in [Rescoring.bm25, .fused, .none] {
            let ranking = RankingOptions(rescoring: rescoring)
            let got = try await index.search(texts: queries, k: 6, ranking: ranking)
            let want = try local.search(texts: queries, k: 6, ranking: ranking)
            for (q, (g, w)) in zip(got, want).enumerated() {
                #expect(g.hits.map(\.id) == w.hits.map(\.id) && !g.hits.isEmpty, "\(queries[q]) \(rescoring)")
                #expect(g.hits.map(\.fields) == w.hits.map(\.fields) && g.lexicalOnly == w.lexicalOnly, "\(queries[q]) \(rescoring)")
            }
        }
        let unknown = try await index.search("valgrind memcheck")
        #expect(unknown.lexicalOnly && unknown.hits.map(\.id) == ["tool"])
        #expect(try await index.remove(ids: ["tool"]) == 1)
        #expect(try await index.search("valgrind memcheck").hits.isEmpty)
        await index.close()

        // Opened again by name alone: the model comes from the database.
        let again = try await PostgresDocumentIndex.open(at: location, name: "notes", create: false)
        #expect(try ModelFile.fingerprint(again.model) == ModelFile.fingerprint(model))
        #expect(try await again.count() == 80)
        await again.close()
        // Another model, or an index of codes, is refused.
        await #expect(throws: IndexError.self) {
            try await PostgresDocumentIndex.open(at: location, name: "notes", model: randomModel(bits: 64, hidden: 32, seed: 5))
        }
        let codes = try await PostgresCodeIndex.create(at: location, name: "codes", bits: 64)
        await codes.close()
        do {
            _ = try await PostgresDocumentIndex.open(at: location, name: "codes")
            Issue.record("an index of codes opened as documents")
        } catch IndexError.kindMismatch(_, let holds, let wanted) {
            #expect(holds == .codes && wanted == .documents)
        }
    }
}
