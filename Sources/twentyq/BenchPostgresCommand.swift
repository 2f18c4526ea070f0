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
        abstract: "Load synthetic codes into PostgreSQL and an LMDB index; time exact k-NN in SQL (1 and 2 parallel workers) against the LMDB scan.",
        discussion: """
        The anchor is the LMDB scan of the same codes in the same run (one query at a time). \
        Every SQL answer is checked against the scan's distances. The index `bench_BITS_COUNT` \
        in the database is replaced. Tools/bench/postgres_knn.sh starts a throwaway PostgreSQL \
        and runs this.
        """
    )

    @Option(help: ArgumentHelp("The database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.", valueName: "url")) var url: String
    @Option(help: "Codes.") var count = 1_000_000
    @Option(help: "Code width.") var bits = 256
    @Option(help: "Queries timed per setting.") var queries = 20
    @Option(name: .short, help: "Neighbours per query.") var k = 10
    @Option(help: "Codes per insert transaction.") var batch = 20_000
    @Option(help: "Seed of the synthetic codes.") var seed: UInt64 = 1

    func validate() throws {
        guard count >= 1, queries >= 1, k >= 1, batch >= 1 else { throw ValidationError("--count, --queries, -k and --batch must be at least 1") }
        guard BinaryCode.supportedBits.contains(bits) else { throw ValidationError("--bits must be 1 to 4096 (got \(bits))") }
    }

    func run() throws {
        let location = try PostgresLocation(url: url)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("twentyq-bench-pg-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (count, bits, queries, k, batch, seed) = (count, bits, queries, k, batch, seed)
        let (line, verified) = try runAsync { () -> (String, Bool) in
            let name = "bench_\(bits)_\(count)"
            if let old = try? await PostgresCodeIndex.open(at: location, name: name) { try await old.drop(); await old.close() }
            let pg = try await PostgresCodeIndex.create(at: location, name: name, bits: bits)
            let lmdb = try CodeIndex.create(at: scratch, bits: bits)
            var pgSeconds = 0.0, lmdbSeconds = 0.0
            for start in stride(from: 0, to: count, by: batch) {
                let entries = try (start ..< min(count, start + batch)).map { IndexEntry(id: String($0), code: try SyntheticCodes.code(index: $0, bits: bits, seed: seed)) }
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
                let base = try SyntheticCodes.code(index: Int(rng.next() % UInt64(count)), bits: bits, seed: seed)
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
                "pg_load_codes_per_second": Double(count) / pgSeconds, "lmdb_load_codes_per_second": Double(count) / lmdbSeconds,
                "anchor": "LMDB scan, one query at a time, all cores", "lmdb_ms_p50": median(lmdbTimes),
            ]
            for workers in [0, 1, 2] {
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
