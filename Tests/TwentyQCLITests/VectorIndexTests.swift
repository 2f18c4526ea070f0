import BinaryCodes
import CodeStore
import Foundation
import TestSupport
import Testing
import TwentyQ

@Suite struct VectorIndexTests {
    static let data = clusteredVectors(count: 300, dimensions: 24, seed: 21)

    /// Exact cosine ranking of the database for `query` (ties to the lower row).
    func exactTop(_ query: [Float], k: Int, excluding: Int? = nil) -> [String] {
        let q = VectorMetric.cosine.prepare(query)
        let scores = (0..<Self.data.count).map { r -> Float in
            let v = VectorMetric.cosine.prepare(Self.data.row(r))
            return zip(q, v).reduce(0) { $0 + $1.0 * $1.1 }
        }
        return (0..<Self.data.count).filter { $0 != excluding }.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            .prefix(k).map(String.init)
    }

    @Test(arguments: VectorStorage.allCases)
    func rescoringWithEveryCandidateIsTheExactRanking(storage: VectorStorage) throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try VectorIndex.open(at: dir.appending("idx"), model: randomVectorModel(dimensions: 24, bits: 64), storage: storage)
        #expect(try index.add(Self.data) == AddSummary(added: 300, replaced: 0))
        // Oversampling that covers the whole database: rescoring alone decides the order.
        for r in stride(from: 0, to: 300, by: 37) {
            let hits = try index.search(Self.data.row(r), k: 10, oversample: 30)
            let exact = exactTop(Self.data.row(r), k: 10)
            if storage == .int8 {
                // int8 may swap near-equal neighbours; the sets agree to within one.
                #expect(Set(hits.map(\.id)).intersection(exact).count >= 9)
            } else {
                #expect(hits.map(\.id) == exact)
            }
            #expect(hits[0].id == String(r) && abs(hits[0].score! - 1) < 0.01)
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score! >= $1.score! })
        }
    }

    /// The shortlist, recomputed here from its definition: the k x oversample x shortlist
    /// Hamming-nearest (scan order), the best k x oversample of them by the bit-by-bit
    /// asymmetric score (ties in scan order), then the best k by stored-vector similarity.
    @Test(arguments: [1, 3, 10])
    func shortlistPicksRescoredCandidatesByTheAsymmetricScore(shortlist: Int) throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = randomVectorModel(dimensions: 24, bits: 64)
        let index = try VectorIndex.open(at: dir.appending("idx"), model: model, storage: .float32)
        try index.add(Self.data)
        let (k, oversample) = (5, 2)
        for r in stride(from: 3, to: 300, by: 41) {
            var query = Self.data.row(r)
            query[0] += 0.3 // not a stored vector
            let got = try index.search(query, k: k, oversample: oversample, shortlist: shortlist)
            let hamming = try index.store.nearest(to: CodeMatrix(bits: 64, words: model.encode(query).words), k: k * oversample * shortlist)[0]
            let logits = model.logits(query)
            let asymmetric = hamming.map { AsymmetricScorer.reference(logits: logits, code: try! index.store.code(for: $0.id)!) }
            let picked = shortlist == 1 ? Array(hamming) : hamming.indices.sorted {
                asymmetric[$0] > asymmetric[$1] || (asymmetric[$0] == asymmetric[$1] && $0 < $1)
            }.prefix(k * oversample).map { hamming[$0] }
            let q = VectorMetric.cosine.prepare(query)
            let similarity = try picked.map { hit in zip(q, VectorMetric.cosine.prepare(try index.vector(for: hit.id)!)).reduce(0) { $0 + $1.0 * $1.1 } }
            let expected = picked.indices.sorted { similarity[$0] > similarity[$1] || (similarity[$0] == similarity[$1] && $0 < $1) }
                .prefix(k).map { picked[$0].id }
            #expect(got.map(\.id) == expected, "row \(r) shortlist \(shortlist)")
        }
        #expect(throws: IndexError.self) { try index.search(Self.data.row(0), k: 3, shortlist: 0) }
    }

    @Test func withoutStorageSearchIsByHammingDistanceAndCannotRescore() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let model = randomVectorModel(dimensions: 24, bits: 64)
        let index = try VectorIndex.open(at: dir.appending("idx"), model: model)
        try index.add(Self.data)
        let hits = try index.search(Self.data.row(5), k: 5)
        #expect(hits[0].distance == 0 && hits.allSatisfy { $0.score == nil })
        let code = model.encode(Self.data.row(5))
        for hit in hits { #expect(hit.distance == HammingReference.distance(code, model.encode(Self.data.row(Int(hit.id)!)))) }
        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.distance <= $1.distance })
        #expect(throws: IndexError.self) { try index.search(Self.data.row(5), k: 5, rescore: true) }
        #expect(try index.vector(for: "5") == nil)
    }

    @Test func idsMetadataReplacementAndRemoval() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try VectorIndex.open(at: dir.appending("idx"), model: randomVectorModel(dimensions: 24, bits: 32), storage: .float32)
        let ids = (0..<300).map { "v\($0)" }
        try index.add(Self.data, ids: ids)
        // Replacing v7 with v8's vector (and metadata) makes it v8's exact twin.
        let summary = try index.add(ids: ["v7"], vectors: [Self.data.row(8)], fields: [["note": "moved"]])
        #expect(summary == AddSummary(added: 0, replaced: 1))
        #expect(try index.vector(for: "v7") == Self.data.row(8))
        let hits = try index.search(Self.data.row(8), k: 2, oversample: 50)
        #expect(Set(hits.map(\.id)) == ["v7", "v8"])
        #expect(hits.first { $0.id == "v7" }!.fields == ["note": "moved"])
        // Metadata given as JSON bytes (as a JSONL file's extra members are): its members come
        // back as fields, non-strings as their JSON text; bytes that are no object give none.
        try index.add(ids: ["v9", "v10"], vectors: [Self.data.row(9), Self.data.row(10)],
                      metadata: [Array(#"{"tags":["a","b"],"title":"nine","year":1993}"#.utf8), Array("raw".utf8)])
        #expect(try index.search(Self.data.row(9), k: 1, oversample: 50)[0].fields == ["tags": #"["a","b"]"#, "title": "nine", "year": "1993"])
        #expect(try index.search(Self.data.row(10), k: 1, oversample: 50)[0].fields == [:])
        #expect(try index.remove(ids: ["v8", "v100"]) == 2)
        #expect(try index.count == 298)
        let after = try index.search(Self.data.row(8), k: 1, oversample: 50)
        #expect(after[0].id == "v7")
        // A moved record keeps its stored vector: every remaining vector still finds itself.
        for r in [0, 50, 299] { #expect(try index.search(Self.data.row(r), k: 1, oversample: 8)[0].id == "v\(r)") }
    }

    @Test func badInputIsRefusedAndNothingIsWritten() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let path = dir.appending("idx")
        let model = randomVectorModel(dimensions: 24, bits: 32)
        let index = try VectorIndex.open(at: path, model: model, storage: .int8)
        try index.add(Self.data)
        var bad = Self.data.row(0)
        bad[3] = .nan
        #expect(throws: VectorFileError.notFinite(path: "input", row: 1, column: 3)) {
            try index.add(ids: ["a", "b"], vectors: [Self.data.row(1), bad])
        }
        #expect(throws: VectorFileError.wrongDimensions(path: "input", row: 0, expected: 24, found: 3)) {
            try index.add(ids: ["a"], vectors: [[1, 2, 3]])
        }
        #expect(throws: VectorFileError.wrongDimensions(path: "query", row: 0, expected: 24, found: 2)) { try index.search([1, 2]) }
        #expect(throws: VectorFileError.notFinite(path: "query", row: 0, column: 3)) { try index.search(bad) }
        #expect(try index.count == 300)
        // Another model, other storage, or a text index: each refused with its reason.
        #expect(throws: IndexError.self) { try VectorIndex.open(at: path, model: randomVectorModel(dimensions: 24, bits: 32, seed: 2)) }
        #expect(throws: IndexError.self) { try VectorIndex.open(at: path, storage: .float32) }
        #expect(throws: IndexError.self) { try DocumentIndex.open(at: path) }
        _ = try DocumentIndex.open(at: dir.appending("text"), model: randomModel())
        #expect(throws: IndexError.self) { try VectorIndex.open(at: dir.appending("text")) }
        #expect(throws: IndexError.self) { try VectorIndex.open(at: dir.appending("new")) }
        // Each refusal names what the index holds (an index of codes is not called a text index).
        _ = try CodeIndex.create(at: dir.appending("codes"), bits: 32)
        for (other, holds) in [("text", IndexKind.documents), ("codes", .codes)] {
            #expect { try VectorIndex.open(at: dir.appending(other)) } throws: { error in
                guard case IndexError.kindMismatch(_, let found, .vectors) = error else { return false }
                return found == holds
            }
        }
        #expect { try DocumentIndex.open(at: dir.appending("codes")) } throws: { error in
            guard case IndexError.kindMismatch(_, .codes, .documents) = error else { return false }
            return true
        }
        // Reopened read-only, it searches the same.
        let reader = try VectorIndex.open(at: path, readOnly: true)
        #expect(try reader.search(Self.data.row(9), k: 3).map(\.id) == index.search(Self.data.row(9), k: 3).map(\.id))
    }
}
