import BinaryCodes
import CodeStore
import Foundation
import TestSupport
import Testing

/// `twentyq export --format milvus|elasticsearch|pgvector` through the real binary: each
/// format read back gives every id, code and field of our own JSONL export; the pgvector script
/// loads into a real PostgreSQL 15 with psql, and exact k-NN in SQL there agrees with the
/// naive reference.
@Suite struct ExportCLITests {
    /// An index of 100-bit codes (not a whole number of bytes) whose ids and fields hold the
    /// characters each format must escape.
    static func index(_ dir: TemporaryDirectory) throws -> (db: String, codes: [String: BinaryCode], fields: [String: [String: String]]) {
        let db = dir.appending("codes")
        let index = try CodeIndex.create(at: db, bits: 100)
        let matrix = try clusteredCodes(bits: 100, count: 300, seed: 51, noise: 8)
        var codes: [String: BinaryCode] = [:], fields: [String: [String: String]] = [:]
        let odd = ["tab\there", "back\\slash", "new\nline", "quote\"d", "ünïcødé", "comma,semi;colon", "carriage\rreturn"]
        let entries = try (0..<matrix.count).map { i -> IndexEntry in
            let id = i < odd.count ? odd[i] : "c\(i)"
            let f = ["n": "\(i)", "text": i < odd.count ? "a \\ b\tc\nd \"e\"" : "plain"]
            codes[id] = matrix[i]
            fields[id] = f
            return IndexEntry(id: id, code: matrix[i], metadata: Array(try JSONSerialization.data(withJSONObject: f, options: .sortedKeys)))
        }
        try index.add(entries)
        return (db, codes, fields)
    }

    @Test func milvusAndElasticsearchFormatsCarryEveryCodeAndField() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let (db, codes, fields) = try Self.index(dir)

        let milvus = try runTwentyQ(["export", "--db", db, "--format", "milvus"])
        #expect(milvus.status == 0, "\(milvus.stderr)")
        let rows = try #require((try JSONSerialization.jsonObject(with: Data(milvus.stdout.utf8)) as? [String: Any])?["rows"] as? [[String: Any]])
        #expect(rows.count == codes.count)
        for row in rows {
            let id = try #require(row["id"] as? String)
            let bytes = try #require(row["code"] as? [Int]).map(UInt8.init)
            #expect(bytes.count == 13)  // 100 bits in 13 bytes, the last 4 bits zero
            #expect(try BinaryCode(packedBytes: bytes, bits: 100) == codes[id], "\(id)")
            #expect(row["fields"] as? [String: String] == fields[id], "\(id)")
        }

        let elastic = try runTwentyQ(["export", "--db", db, "--format", "elasticsearch", "--name", "Notes_1"])
        #expect(elastic.status == 0, "\(elastic.stderr)")
        #expect(elastic.stderr.contains("PUT /notes_1") && elastic.stderr.contains("\"element_type\": \"bit\", \"dims\": 104"), "\(elastic.stderr)")
        let lines = elastic.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 * codes.count)
        for pair in stride(from: 0, to: lines.count, by: 2) {
            let action = try #require(try parseJSONObject(lines[pair])["index"] as? [String: Any])
            #expect(action["_index"] as? String == "notes_1")
            let id = try #require(action["_id"] as? String)
            let source = try parseJSONObject(lines[pair + 1])
            let hex = try #require(source["code"] as? String)
            let bytes = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(Array(hex)[$0 ..< $0 + 2]), radix: 16)! }
            #expect(try BinaryCode(packedBytes: bytes, bits: 100) == codes[id], "\(id)")
            #expect(source["fields"] as? [String: String] == fields[id], "\(id)")
        }
    }

    /// Into Debian's PostgreSQL 15 (no pgvector: the table alone) and into PostgreSQL 16 with
    /// pgvector 0.8.5 (the script's HNSW branch: the graph is built and answers `<~>`).
    @Test(arguments: [false, true])
    func thePgvectorScriptLoadsIntoPostgreSQLAndSearchesExactly(pgvector: Bool) throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let (db, codes, fields) = try Self.index(dir)
        let export = try runTwentyQ(["export", "--db", db, "--format", "pgvector", "--name", "notes"])
        #expect(export.status == 0, "\(export.stderr)")
        let pg = try TestPostgres(pgvector: pgvector); defer { pg.stop() }
        let script = pg.directory.appending("notes.sql")
        try export.stdout.write(toFile: script, atomically: true, encoding: .utf8)
        _ = try pg.psql(file: script)
        // Every row as stored: the id, the bit string, the fields (JSON text, keys sorted).
        let dump = try pg.psql(sql: "SELECT json_build_array(id, code::text, fields)::text FROM notes ORDER BY id;")
        var seen = 0
        for line in dump.split(separator: "\n") {
            let row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any])
            let id = try #require(row[0] as? String)
            #expect(try BinaryCode(bitString: try #require(row[1] as? String)) == codes[id], "\(id)")
            #expect(row[2] as? [String: String] == fields[id], "\(id)")
            seen += 1
        }
        #expect(seen == codes.count)
        // Exact k-NN in SQL, ties by id, is the naive reference's order.
        let ids = codes.keys.sorted()
        let query = try clusteredCodes(bits: 100, count: 1, seed: 52, noise: 8)[0]
        // (Ties by the id's bytes, as COLLATE "C" orders them.)
        let reference = ids.sorted {
            let (a, b) = (HammingReference.distance(codes[$0]!, query), HammingReference.distance(codes[$1]!, query))
            return a != b ? a < b : Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8))
        }.prefix(10)
        let sql = try pg.psql(sql: "SELECT json_agg(id)::text FROM (SELECT id FROM notes ORDER BY bit_count(code # B'\(query.bitString)'), id COLLATE \"C\" LIMIT 10) t;")
        #expect(try JSONSerialization.jsonObject(with: Data(sql.utf8)) as? [String] == Array(reference))
        let graphs = try pg.psql(sql: "SELECT count(*) FROM pg_indexes WHERE tablename = 'notes' AND indexdef LIKE '%USING hnsw (code bit_hamming_ops)%';")
        #expect(graphs.trimmingCharacters(in: .whitespacesAndNewlines) == (pgvector ? "1" : "0"), "\(graphs)")
        if pgvector {
            // Through the graph (sequential scans off): ten answers, each at its exact distance.
            let viaGraph = try pg.psql(sql: """
                SET enable_seqscan = off;
                SELECT json_agg(json_build_array(id, d))::text FROM (SELECT id, bit_count(code # B'\(query.bitString)') AS d
                FROM notes ORDER BY code <~> B'\(query.bitString)' LIMIT 10) t;
                """)
            let answers = try #require(try JSONSerialization.jsonObject(with: Data(viaGraph.utf8)) as? [[Any]], "\(viaGraph)")
            #expect(answers.count == 10, "\(viaGraph)")
            for answer in answers {
                let id = try #require(answer[0] as? String)
                #expect(answer[1] as? Int == HammingReference.distance(try #require(codes[id]), query), "\(answer)")
            }
        }
        // The script creates the table: loading it twice stops at once and changes nothing.
        #expect(throws: (any Error).self) { try pg.psql(file: script) }
        #expect(try pg.psql(sql: "SELECT count(*) FROM notes;").trimmingCharacters(in: .whitespacesAndNewlines) == "\(codes.count)")
    }

    @Test func badExportOptionsAreRefused() throws {
        for (args, message) in [(["--format", "parquet"], "--format"), (["--format", "pgvector", "--name", "drop table"], "not a plain name"),
                                (["--format", "milvus", "--vectors"], "--vectors goes with --format jsonl")] {
            let r = try runTwentyQ(["export", "--db", "/nonexistent"] + args)
            #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }
}
