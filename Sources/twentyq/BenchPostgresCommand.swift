import ArgumentParser
import BinaryCodes
import CodeStore
import Dispatch
import Foundation
import PostgresStore

/// Exact k-NN in PostgreSQL against the LMDB scan over the same codes, in one run (issue #19).
struct BenchPostgresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "Load codes into PostgreSQL and an LMDB index; time exact k-NN in SQL (1 and 2 parallel workers) against the LMDB scan, and with --graph pgvector's HNSW search.",
        discussion: """
        The anchor is the LMDB scan of the same codes in the same run (one query at a time). \
        Every exact SQL answer is checked against the scan's distances. The codes are synthetic \
        (uniform random) or, with --codes-from DIR, the first --count codes of an index; queries \
        are stored codes with a tenth of their bits flipped. With --graph, the HNSW graph is \
        built (its time reported) and each --ef-search value gets its median time and recall: \
        the share of its k answers as near as the exact k-th neighbour. The index \
        `bench_BITS_COUNT` in the database is replaced. Tools/bench/postgres_knn.sh starts a \
        throwaway PostgreSQL (TWENTYQ_PG_BIN=... for one with pgvector) and runs this.
        """
    )

    @Option(help: ArgumentHelp("The database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.", valueName: "url")) var url: String
    @Option(help: "Codes.") var count = 1_000_000
    @Option(help: "Code width.") var bits = 256
    @Option(help: "Queries timed per setting.") var queries = 20
    @Option(name: .short, help: "Neighbours per query.") var k = 10
    @Option(help: "Codes per insert transaction.") var batch = 20_000
    @Option(help: "Seed of the synthetic codes.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Take the codes from this index (its first --count) instead of synthetic ones.", valueName: "dir")) var codesFrom: String?
    @Flag(help: "Also build pgvector's HNSW graph and time approximate searches.") var graph = false
    @Option(help: "With --graph: the graph's m.") var m = 16
    @Option(help: "With --graph: the graph's ef_construction.") var efConstruction = 64
    @Option(help: ArgumentHelp("With --graph: ef_search values, comma-separated.", valueName: "list")) var efSearch = "40,100,200,400"
    @Option(help: "Exact SQL settings to time: parallel workers, comma-separated (none: skip the exact SQL timing).") var workers = "0,1,2"

    func validate() throws {
        guard count >= 1, queries >= 1, k >= 1, batch >= 1 else { throw ValidationError("--count, --queries, -k and --batch must be at least 1") }
        guard BinaryCode.supportedBits.contains(bits) else { throw ValidationError("--bits must be 1 to 4096 (got \(bits))") }
        guard efSearch.split(separator: ",").allSatisfy({ Int($0).map { (1...1_000).contains($0) } ?? false }) else {
            throw ValidationError("--ef-search takes numbers 1 to 1,000, comma-separated (got \(efSearch))")
        }
        guard workers == "none" || workers.split(separator: ",").allSatisfy({ Int($0).map { (0...64).contains($0) } ?? false }) else {
            throw ValidationError("--workers takes numbers 0 to 64, comma-separated, or none (got \(workers))")
        }
    }

    /// The codes to load: the first `count` of an index, or synthetic ones.
    func loadCodes() throws -> (ids: [String], codes: CodeMatrix) {
        guard let codesFrom else {
            var matrix = try CodeMatrix(bits: bits)
            for i in 0..<count { try matrix.append(try SyntheticCodes.code(index: i, bits: bits, seed: seed)) }
            return ((0..<count).map(String.init), matrix)
        }
        let source = try CodeIndex.open(at: codesFrom, readOnly: true)
        var ids: [String] = []
        var matrix = try CodeMatrix(bits: source.bits)
        try source.forEachRecord { id, _, code in
            ids.append(id)
            try matrix.append(code)
            return ids.count < count
        }
        return (ids, matrix)
    }

    func run() throws {
        let location = try PostgresLocation(url: url)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("twentyq-bench-pg-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (source, codes) = try loadCodes()
        let (count, bits, queries, k, batch, seed) = (codes.count, codes.bits, queries, k, batch, seed)
        let graphSettings = graph ? PostgresCodeIndex.GraphSettings(m: m, efConstruction: efConstruction) : nil
        let efValues = efSearch.split(separator: ",").compactMap { Int($0) }
        let workerValues = workers == "none" ? [] : workers.split(separator: ",").compactMap { Int($0) }
        let codesFrom = codesFrom
        let (line, verified) = try runAsync { () -> (String, Bool) in
            let name = "bench_\(bits)_\(count)"
            if let old = try? await PostgresCodeIndex.open(at: location, name: name) { try await old.drop(); await old.close() }
            let pg = try await PostgresCodeIndex.create(at: location, name: name, bits: bits)
            let lmdb = try CodeIndex.create(at: scratch, bits: bits)
            var pgSeconds = 0.0, lmdbSeconds = 0.0
            for start in stride(from: 0, to: count, by: batch) {
                let entries = (start ..< min(count, start + batch)).map { IndexEntry(id: source[$0], code: codes[$0]) }
                var t = DispatchTime.now().uptimeNanoseconds
                try await pg.add(entries)
                pgSeconds += Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
                t = DispatchTime.now().uptimeNanoseconds
                try lmdb.add(entries)
                lmdbSeconds += Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
            }
            // Queries: stored codes with a tenth of their bits flipped.
            var rng = SeededGenerator(seed: seed &+ 0x5157)
            var matrix = try CodeMatrix(bits: bits)
            for _ in 0..<queries {
                let base = codes[Int(rng.next() % UInt64(count))]
                try matrix.append(SyntheticCodes.perturbed(base, flips: max(1, bits / 10), using: &rng))
            }
            func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] * 1000 }
            var lmdbTimes: [Double] = [], expected: [[Int]] = []
            for q in 0..<queries {
                let t = DispatchTime.now().uptimeNanoseconds
                let hits = try lmdb.nearest(to: CodeMatrix(bits: bits, words: matrix[q].words), k: k, fields: false)[0]
                lmdbTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
                expected.append(hits.map(\.distance))
            }
            var out: [String: Any] = [
                "count": count, "bits": bits, "queries": queries, "k": k, "database": location.description,
                "codes": codesFrom.map { "the first \(count) codes of \($0)" } ?? "synthetic, uniform random",
                "pg_load_codes_per_second": Double(count) / pgSeconds, "lmdb_load_codes_per_second": Double(count) / lmdbSeconds,
                "anchor": "LMDB scan, one query at a time, all cores", "lmdb_ms_p50": median(lmdbTimes),
            ]
            for workers in workerValues {
                try await pg.setParallelWorkers(workers)
                var times: [Double] = []
                var verified = true
                for q in 0..<queries {
                    let t = DispatchTime.now().uptimeNanoseconds
                    let hits = try await pg.nearest(to: CodeMatrix(bits: bits, words: matrix[q].words), k: k, fields: false)[0]
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
                    verified = verified && hits.map(\.distance) == expected[q]
                }
                out["pg_ms_p50_workers_\(workers)"] = median(times)
                out["ratio_workers_\(workers)"] = median(times) / median(lmdbTimes)
                out["verified_workers_\(workers)"] = verified
            }
            if let graphSettings {
                var t = DispatchTime.now().uptimeNanoseconds
                try await pg.buildGraph(graphSettings)
                out["graph_build_seconds"] = Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
                out["graph_m"] = graphSettings.m
                out["graph_ef_construction"] = graphSettings.efConstruction
                out["pgvector"] = try await pg.pgvectorVersion() ?? "?"
                out["table_bytes_with_graph"] = try await pg.tableBytes()
                for ef in efValues {
                    var times: [Double] = []
                    var within = 0
                    for q in 0..<queries {
                        t = DispatchTime.now().uptimeNanoseconds
                        let hits = try await pg.approximateNearest(to: CodeMatrix(bits: bits, words: matrix[q].words), k: k, efSearch: ef, fields: false)[0]
                        times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
                        let kth = expected[q].last ?? 0
                        within += hits.filter { $0.distance <= kth }.count
                    }
                    out["graph_ms_p50_ef_\(ef)"] = median(times)
                    out["graph_recall_ef_\(ef)"] = Double(within) / Double(queries * k)
                    out["graph_ratio_ef_\(ef)"] = median(times) / median(lmdbTimes)
                }
            }
            try await pg.drop()
            await pg.close()
            return (try jsonLine(out), !out.keys.contains { $0.hasPrefix("verified") && out[$0] as? Bool == false })
        }
        print(line)
        if !verified {
            throw CLIError(description: "SQL answers differ from the LMDB scan's distances")
        }
    }
}
