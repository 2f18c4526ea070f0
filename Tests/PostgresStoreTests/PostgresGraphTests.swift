import BinaryCodes
import CodeStore
import Foundation
import PostgresStore
import TestSupport
import Testing

/// The approximate path through pgvector's HNSW graph, against a real PostgreSQL 16 with
/// pgvector 0.8.5 (Tools/setup.sh unpacks it; Debian has no pgvector): every answer carries
/// its exact distance, most true neighbours are found, the graph follows later writes, and a
/// server without pgvector gets a clear refusal.
@Suite struct PostgresGraphTests {
    @Test func graphSearchFindsTheNeighboursWithExactDistances() async throws {
        let server = try TestPostgres(pgvector: true)
        defer { server.stop() }
        let index = try await PostgresCodeIndex.create(at: try PostgresLocation(url: server.url), name: "graph", bits: 128)
        let count = 2_000
        let codes = try randomMatrix(bits: 128, count: count, seed: 21)
        let ids = (0..<count).map { String(format: "g%05d", $0) }
        try await index.add((0..<count).map { IndexEntry(id: ids[$0], code: codes[$0], metadata: Array("{\"n\":\($0)}".utf8)) })
        // Queries: stored codes with 12 of 128 bits flipped, so each has a clear nearest one.
        var rng = SeededGenerator(seed: 5)
        var queries = try CodeMatrix(bits: 128)
        var sources: [Int] = []
        for _ in 0..<20 {
            let source = Int(rng.next() % UInt64(count))
            sources.append(source)
            try queries.append(SyntheticCodes.perturbed(codes[source], flips: 12, using: &rng))
        }

        await #expect { try await index.approximateNearest(to: queries, k: 10, efSearch: 100) } throws: { error in
            "\(error)".contains("no HNSW graph")
        }
        #expect(try await index.hasGraph() == false)
        await #expect(throws: IndexError.self) { try await index.buildGraph(.init(m: 1)) }
        await #expect(throws: IndexError.self) { try await index.buildGraph(.init(m: 16, efConstruction: 20)) }
        try await index.buildGraph(.init(m: 12, efConstruction: 48))
        #expect(try await index.graph() == .init(m: 12, efConstruction: 48))
        #expect(try await index.pgvectorVersion()?.hasPrefix("0.8") == true)

        let exact = try await index.nearest(to: queries, k: 10)
        let approximate = try await index.approximateNearest(to: queries, k: 10, efSearch: 200)
        var within = 0
        for q in 0..<queries.count {
            let hits = approximate[q]
            #expect(hits.count == 10)
            #expect(Set(hits.map(\.id)).count == hits.count, "query \(q): an id twice")
            #expect(zip(hits, hits.dropFirst()).allSatisfy { ($0.distance, $0.id) < ($1.distance, $1.id) }, "query \(q): not in (distance, id) order")
            for hit in hits {
                let n = Int(hit.id.dropFirst())!
                #expect(hit.distance == HammingReference.distance(codes[n], queries[q]), "query \(q): \(hit.id) with a wrong distance")
                #expect(hit.fields == ["n": String(n)])
            }
            #expect(hits[0].id == ids[sources[q]], "query \(q): the code it came from is not first")
            let kth = exact[q].last!.distance
            within += hits.filter { $0.distance <= kth }.count
        }
        // Recall by distance (ties make ids ambiguous): answers as near as the exact 10th.
        #expect(Double(within) / Double(10 * queries.count) >= 0.9, "recall \(Double(within) / Double(10 * queries.count))")

        // The graph follows writes: a new code is found at distance 0; a removed one is gone.
        let fresh = try randomMatrix(bits: 128, count: 1, seed: 99)[0]
        try await index.add([IndexEntry(id: "fresh", code: fresh)])
        try await index.remove(ids: [ids[sources[0]]])
        let after = try await index.approximateNearest(to: try CodeMatrix(bits: 128, words: fresh.words), k: 3, efSearch: 40)[0]
        #expect(after.first?.id == "fresh" && after.first?.distance == 0)
        let gone = try await index.approximateNearest(to: try CodeMatrix(bits: 128, words: codes[sources[0]].words), k: 5, efSearch: 100)[0]
        #expect(!gone.map(\.id).contains(ids[sources[0]]))
        await #expect(throws: IndexError.self) { try await index.approximateNearest(to: queries, k: 10, efSearch: 0) }

        try await index.dropGraph()
        #expect(try await index.hasGraph() == false)
        await index.close()
    }

    @Test func aServerWithoutPgvectorIsRefusedClearly() async throws {
        let server = try TestPostgres()
        defer { server.stop() }
        let index = try await PostgresCodeIndex.create(at: try PostgresLocation(url: server.url), name: "plain", bits: 64)
        try await index.add([IndexEntry(id: "a", code: try randomMatrix(bits: 64, count: 1, seed: 1)[0])])
        await #expect { try await index.buildGraph() } throws: { error in
            "\(error)".contains("has no pgvector") && "\(error)".contains("search exactly")
        }
        #expect(try await index.hasGraph() == false)
        #expect(try await index.count() == 1)
        await index.close()
    }

    /// A text index's shortlist through the graph (pgvector 0.8's iterative scans): it fills past
    /// ef_search, its codes are near ones (approximate, so compared by distance with the exact
    /// scan's), a document holding a rare query term still comes first, and without a graph or
    /// with a bad ef_search it is refused.
    @Test func aTextShortlistThroughTheGraphIsNearAndFull() async throws {
        let server = try TestPostgres(pgvector: true)
        defer { server.stop() }
        let index = try await PostgresCodeIndex.create(at: try PostgresLocation(url: server.url), name: "notes", bits: 64,
                                                       modelFingerprint: "tqm-test", modelFile: [1])
        var rng = SeededGenerator(seed: 41)
        let codes = try clusteredCodes(bits: 64, count: 600, seed: 42, noise: 6, centres: 5)
        var docs = (0..<600).map { _ in (0 ..< 1 + Int(rng.next() % 12)).map { _ in 1 + rng.next() % 40 } }
        docs[333] += [7777]                                    // a rare term
        try await index.add((0..<600).map { IndexEntry(id: String(format: "d%03d", $0), code: codes[$0], terms: TermCounts(terms: docs[$0])) })
        var options = RankingOptions(rescoring: .none, shortlist: 150)
        options.asymmetric = false
        let query = RankedQuery(code: try SyntheticCodes.perturbed(codes[17], flips: 4, using: &rng), terms: [3, 9, 7777])
        await #expect(throws: IndexError.self) { try await index.rank(query, k: 10, options: options, efSearch: 40) }
        try await index.buildGraph()
        await #expect(throws: IndexError.self) { try await index.rank(query, k: 10, options: options, efSearch: 0) }

        // The codes alone, 40 nearest through ef_search 20: as near as the exact scan's, mostly.
        let exact = try await index.rank(query, k: 40, options: options)
        let graph = try await index.rank(query, k: 40, options: options, efSearch: 20)
        #expect(graph.hits.count == 40, "\(graph.hits.count)")
        let bound = try #require(exact.hits.last?.distance)
        let near = graph.hits.filter { $0.distance <= bound }.count
        #expect(near >= 32, "\(near) of 40 within the exact 40th distance \(bound)")
        for hit in graph.hits {
            #expect(hit.distance == HammingReference.distance(codes[Int(hit.id.dropFirst())!], query.code), "\(hit.id)")
        }
        // Ranked by BM25: a shortlist of 150 through ef_search 20 fills, and a rare term's one
        // document comes first for it, wherever its code is.
        options.rescoring = .bm25
        let ranked = try await index.rank(query, k: 10, options: options, efSearch: 20)
        #expect(ranked.candidates >= 150 && ranked.hits.count == 10, "\(ranked.candidates)")
        let rare = try await index.rank(RankedQuery(code: query.code, terms: [7777]), k: 10, options: options, efSearch: 20)
        #expect(rare.hits.first?.id == "d333" && rare.hits.first?.bm25 ?? 0 > 0, "\(rare.hits.map(\.id))")
        await index.close()
    }
}
