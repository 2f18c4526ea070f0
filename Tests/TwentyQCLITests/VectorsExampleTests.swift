import Foundation
import TestSupport
import Testing
import Training
import TwentyQ

/// The library example of docs/VECTORS.md, compiled and run; the doc must quote it verbatim.
@Suite struct VectorsExampleTests {
    func vectorsExample(embeddings: String, directory: String) throws {
        // `embeddings`: a .npy, .fvecs or JSONL file; `directory`: any folder you may write to
        let set = try VectorFile.read(embeddings)                      // or VectorSet(dimensions:values:ids:)
        var config = VectorTrainingConfig()
        config.bits = 64                                                // ternary weights, cosine: the defaults
        config.steps = 100
        let model = try VectorTrainer(config: config).train(set)
        try ModelFile.write(model, to: directory + "/vectors.tqm")

        let index = try VectorIndex.open(at: directory + "/index", model: model, storage: .int8)
        try index.add(set)                                              // ids: row numbers, or the set's own ids
        let hits = try index.search(set.row(7), k: 10, oversample: 4)   // rescored by the stored int8 vectors
        print(hits[0].id, hits[0].score!)                               // 7 1.0 (to within int8 rounding)
    }

    @Test func theExampleRunsAndDoesWhatItSays() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let file = dir.appending("emb.npy")
        try Data(VectorFile.npyBytes(clusteredVectors(count: 400, dimensions: 32, seed: 3))).write(to: URL(fileURLWithPath: file))
        try vectorsExample(embeddings: file, directory: dir.path)
        let index = try VectorIndex.open(at: dir.appending("index"), readOnly: true)
        #expect(try index.count == 400 && index.settings.storage == .int8)
        let hit = try index.search(VectorFile.read(file).row(7), k: 1)[0]
        #expect(hit.id == "7" && abs(hit.score! - 1) < 0.01)
        #expect(try ModelFile.readVectors(dir.appending("vectors.tqm")).config.weights == .ternary)
    }

    /// docs/VECTORS.md and the DocC article on vectors quote it.
    @Test(arguments: [("docs/VECTORS.md", "<!-- vectors-example"), ("Sources/TwentyQ/TwentyQ.docc/Vectors.md", "<!-- docc-vectors-example")])
    func theDocsQuoteTheExampleVerbatim(file: String, marker: String) throws {
        let doc = try #require(try Snippets.docLines(file, after: marker), "no example in \(file)")
        let body = try #require(try Snippets.bodyLines(#filePath, opening: "func vectorsExample(embeddings: String, directory: String) throws {"))
        #expect(doc == body, "\(file)")
    }
}
