import BinaryCodes
import CodeStore
import Foundation
import PostgresStore
import TestSupport
import Testing

/// The PostgreSQL store against a real PostgreSQL 15 started for the test: the same semantics
/// as the LMDB store, and searches identical to the naive reference (ties by id).
@Suite struct PostgresCodeIndexTests {
    func entries(_ codes: CodeMatrix, _ range: Range<Int>) -> [IndexEntry] {
        range.map { IndexEntry(id: String(format: "c%04d", $0), code: codes[$0], metadata: Array("{\"n\":\($0)}".utf8)) }
    }

    /// The reference order: by distance, ties by id (the SQL order).
    func reference(_ query: BinaryCode, _ codes: CodeMatrix, ids: [String], k: Int) -> [String] {
        (0..<codes.count).map { (HammingReference.distance(codes[$0], query), ids[$0]) }.sorted { $0 < $1 }.prefix(k).map { "\($0.1) \($0.0)" }
    }

    @Test func addReplaceRemoveAndSearchLikeTheReference() async throws {
        let server = try TestPostgres()
        defer { server.stop() }
        let location = try PostgresLocation(url: server.url)
        let index = try await PostgresCodeIndex.create(at: location, name: "notes", bits: 100, modelFingerprint: "tqm-test")
        // Clustered codes: many equal distances, so ties matter.
        let codes = try clusteredCodes(bits: 100, count: 300, seed: 3, noise: 6, centres: 5)
        #expect(try await index.add(entries(codes, 0..<300)) == AddSummary(added: 300))
        #expect(try await index.add(entries(codes, 0..<10)) == AddSummary(unchanged: 10))
        #expect(try await index.count() == 300)
        let ids = (0..<300).map { String(format: "c%04d", $0) }
        let queries = try randomMatrix(bits: 100, count: 3, seed: 8)
        var all = queries
        try all.append(codes[17])
        let found = try await index.nearest(to: all, k: 25)
        for q in 0..<all.count {
            #expect(found[q].map { "\($0.id) \($0.distance)" } == reference(all[q], codes, ids: ids, k: 25), "query \(q)")
        }
        #expect(found[3][0].id == "c0017" && found[3][0].distance == 0 && found[3][0].fields == ["n": "17"])
        let radius = try await index.within(radius: 30, of: codes[40])
        #expect(radius.map { "\($0.id) \($0.distance)" } == reference(codes[40], codes, ids: ids, k: 300).filter { Int($0.split(separator: " ")[1])! <= 30 })

        // The same codes in LMDB: the same distances for every query (LMDB breaks ties by slot).
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let lmdb = try CodeIndex.create(at: dir.appending("idx"), bits: 100)
        try lmdb.add(entries(codes, 0..<300))
        let fromLMDB = try lmdb.nearest(to: all, k: 25)
        #expect(fromLMDB.map { $0.map(\.distance) } == found.map { $0.map(\.distance) })

        // Replace one, remove two (all or none).
        var moved = entries(codes, 5..<6)
        moved[0].code = codes[200]
        #expect(try await index.add(moved) == AddSummary(replaced: 1))
        #expect(try await index.code(for: "c0005") == codes[200])
        await #expect(throws: IndexError.self) { try await index.remove(ids: ["c0001", "nobody"]) }
        #expect(try await index.count() == 300)
        #expect(try await index.remove(ids: ["c0001", "c0002", "c0001"]) == 2)
        #expect(try await index.count() == 298)
        #expect(try await index.code(for: "c0001") == nil)
        await index.close()
    }

    @Test func indexesInAPoolServeConcurrentCallsLikeTheReference() async throws {
        let server = try TestPostgres()
        defer { server.stop() }
        let pool = try PostgresPool(try PostgresLocation(url: server.url), maximumConnections: 3)
        #expect(throws: IndexError.self) { try PostgresPool(try PostgresLocation(url: server.url), maximumConnections: 0) }
        let running = Task { await pool.run() }
        defer { running.cancel() }
        #expect(try await pool.indexNames() == [])
        let codes = try clusteredCodes(bits: 64, count: 400, seed: 12, noise: 5, centres: 6)
        let ids = (0..<400).map { String(format: "c%04d", $0) }
        let index = try await PostgresCodeIndex.create(in: pool, name: "pooled", bits: 64, modelFingerprint: "tqm-p")
        _ = try await PostgresCodeIndex.create(in: pool, name: "other", bits: 32)
        #expect(try await pool.indexNames() == ["other", "pooled"])
        // Eight writers at once, each its own transaction on a pooled connection.
        try await withThrowingTaskGroup(of: AddSummary.self) { group in
            for part in 0..<8 { group.addTask { try await index.add(self.entries(codes, part * 50 ..< part * 50 + 50)) } }
            var added = 0
            for try await summary in group { added += summary.added }
            #expect(added == 400)
        }
        // Sixteen searches at once through three connections, each equal to the reference.
        let queries = try randomMatrix(bits: 64, count: 16, seed: 40)
        let answers = try await withThrowingTaskGroup(of: (Int, [SearchHit]).self) { group in
            for q in 0..<16 {
                group.addTask { (q, try await index.nearest(to: CodeMatrix(bits: 64, words: queries[q].words), k: 12)[0]) }
            }
            var out = [[SearchHit]](repeating: [], count: 16)
            for try await (q, hits) in group { out[q] = hits }
            return out
        }
        for q in 0..<16 {
            #expect(answers[q].map { "\($0.id) \($0.distance)" } == reference(queries[q], codes, ids: ids, k: 12), "query \(q)")
        }
        // A failed transaction gives its connection back clean: the next call works.
        await #expect(throws: IndexError.self) { try await index.remove(ids: ["c0001", "nobody"]) }
        #expect(try await index.count() == 400)
        let reopened = try await PostgresCodeIndex.open(in: pool, name: "pooled", modelFingerprint: "tqm-p")
        #expect(reopened.bits == 64)
        await #expect(throws: IndexError.self) { try await PostgresCodeIndex.open(in: pool, name: "pooled", modelFingerprint: "tqm-q") }
        await #expect(throws: IndexError.self) { try await reopened.setParallelWorkers(2) }
    }

    @Test func badInputIsRefusedAndWritesNothing() async throws {
        let server = try TestPostgres()
        defer { server.stop() }
        let location = try PostgresLocation(url: server.url)
        let index = try await PostgresCodeIndex.create(at: location, name: "codes", bits: 64, modelFingerprint: "tqm-a")
        let code = try BinaryCode(bits: 64, words: [42])
        let other = try BinaryCode(bits: 32, words: [1])
        func refused(_ entries: [IndexEntry], _ matches: (IndexError) -> Bool) async {
            do {
                try await index.add(entries)
                Issue.record("accepted \(entries.map(\.id))")
            } catch let error as IndexError {
                #expect(matches(error), "\(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
        await refused([IndexEntry(id: "a", code: code), IndexEntry(id: "a", code: code)]) { if case .duplicateID = $0 { true } else { false } }
        await refused([IndexEntry(id: "a", code: code), IndexEntry(id: "", code: code)]) { if case .invalidID = $0 { true } else { false } }
        await refused([IndexEntry(id: "a", code: other)]) { if case .widthMismatch = $0 { true } else { false } }
        await refused([IndexEntry(id: "a", code: code, metadata: Array("raw".utf8))]) { if case .invalidSetting = $0 { true } else { false } }
        await refused([IndexEntry(id: "a\u{0}b", code: code)]) { if case .invalidID(_, let reason) = $0 { reason.contains("U+0000") } else { false } }
        await refused([IndexEntry(id: "a", code: code, metadata: Array("{\"n\": {\"deep\": \"x\\u0000\"}}".utf8))]) {
            if case .invalidSetting(let message) = $0 { message.contains("field 'n.deep' of 'a'") } else { false }
        }
        #expect(try await index.count() == 0)
        await #expect(throws: CodeError.self) { try await index.nearest(to: CodeMatrix(bits: 64, words: [1]), k: 0) }
        await #expect(throws: IndexError.self) { try await index.nearest(to: CodeMatrix(bits: 32, words: [1]), k: 1) }
        await #expect(throws: CodeError.self) { try await index.within(radius: 65, of: code) }
        await index.close()

        // Opening: the model check, an unknown name, a name that would not be a safe table name,
        // an index that exists already.
        await #expect { try await PostgresCodeIndex.open(at: location, name: "codes", modelFingerprint: "tqm-b") } throws: { error in
            if case IndexError.modelMismatch = error { return true } else { return false }
        }
        await #expect { try await PostgresCodeIndex.open(at: location, name: "nothing") } throws: { error in
            if case IndexError.noIndex = error { return true } else { return false }
        }
        await #expect { try await PostgresCodeIndex.create(at: location, name: "codes", bits: 64) } throws: { error in
            if case IndexError.alreadyExists = error { return true } else { return false }
        }
        await #expect(throws: IndexError.self) { try await PostgresCodeIndex.create(at: location, name: "Drop Table", bits: 64) }
        let reopened = try await PostgresCodeIndex.open(at: location, name: "codes", modelFingerprint: "tqm-a")
        #expect(reopened.bits == 64)
        try await reopened.drop()
        await reopened.close()
        await #expect(throws: IndexError.self) { try await PostgresCodeIndex.open(at: location, name: "codes") }
    }

    @Test func urlsAreReadOrRefusedWithTheirReason() throws {
        let location = try PostgresLocation(url: "postgres://ann:secret@db.example:6543/codes")
        #expect(location == PostgresLocation(host: "db.example", port: 6543, username: "ann", password: "secret", database: "codes"))
        #expect(location.description == "postgres://ann@db.example:6543/codes")
        for bad in ["/var/indexes", "postgres://db.example/codes", "postgres://ann@db.example", "postgres://ann:pw@/codes"] {
            #expect { try PostgresLocation(url: bad) } throws: { error in
                guard case IndexError.invalidSetting(let message) = error else { return false }
                return !message.contains("pw")
            }
        }
    }

    @Test func bitStringsRoundTripInBitOrder() throws {
        for bits in [1, 63, 64, 65, 256, 4096] {
            var rng = SeededGenerator(seed: UInt64(bits))
            let code = try BinaryCode.random(bits: bits, using: &rng)
            let text = code.bitString
            #expect(text.count == bits && (0..<bits).allSatisfy { Array(text.utf8)[$0] == (code[bit: $0] ? 49 : 48) })
            #expect(try BinaryCode(bitString: text) == code)
        }
        #expect(throws: CodeError.self) { try BinaryCode(bitString: "01x1") }
        #expect(throws: CodeError.self) { try BinaryCode(bitString: "") }
    }

    /// Scale-out as far as one machine allows (docs/SCALE.md): two PostgreSQL instances, the
    /// index's table partitioned by hash of id with one partition local and one on the other
    /// instance through postgres_fdw. The store's own SQL searches across both, answers equal
    /// the naive reference, and the plan scans both partitions.
    @Test func aTablePartitionedAcrossTwoInstancesIsSearchedByTheSameSQL() async throws {
        let a = try TestPostgres(), b = try TestPostgres()
        defer { a.stop(); b.stop() }
        let codes = try clusteredCodes(bits: 64, count: 400, seed: 61, noise: 5, centres: 6)
        let ids = (0..<codes.count).map { String(format: "c%04d", $0) }
        _ = try b.psql(sql: "CREATE TABLE tq_notes_p1 (id text PRIMARY KEY, code bit(64) NOT NULL, fields jsonb);")
        let rows = (0..<codes.count).map { "('\(ids[$0])', B'\(codes[$0].bitString)', '{\"n\": \($0)}')" }.joined(separator: ",\n")
        _ = try a.psql(sql: """
            CREATE TABLE tq_indexes (name text PRIMARY KEY, bits integer NOT NULL, model_fingerprint text NOT NULL, format integer NOT NULL);
            INSERT INTO tq_indexes VALUES ('notes', 64, '', 1);
            CREATE EXTENSION postgres_fdw;
            CREATE SERVER shard1 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '\(b.port)', dbname 'postgres', async_capable 'true');
            CREATE USER MAPPING FOR postgres SERVER shard1 OPTIONS (user 'postgres');
            CREATE TABLE tq_notes (id text NOT NULL, code bit(64) NOT NULL, fields jsonb) PARTITION BY HASH (id);
            CREATE TABLE tq_notes_p0 PARTITION OF tq_notes (PRIMARY KEY (id)) FOR VALUES WITH (MODULUS 2, REMAINDER 0);
            CREATE FOREIGN TABLE tq_notes_p1 PARTITION OF tq_notes FOR VALUES WITH (MODULUS 2, REMAINDER 1)
                SERVER shard1 OPTIONS (table_name 'tq_notes_p1');
            INSERT INTO tq_notes VALUES \(rows);
            ANALYZE tq_notes_p0;
            """)
        // The rows went to both instances.
        let local = Int(try a.psql(sql: "SELECT count(*) FROM tq_notes_p0;").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let remote = Int(try b.psql(sql: "SELECT count(*) FROM tq_notes_p1;").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(local > 100 && remote > 100 && local + remote == codes.count, "\(local) + \(remote)")

        let index = try await PostgresCodeIndex.open(at: try PostgresLocation(url: a.url), name: "notes")
        let queries = try clusteredCodes(bits: 64, count: 3, seed: 62, noise: 5, centres: 6)
        let found = try await index.nearest(to: queries, k: 15)
        for q in 0..<queries.count {
            #expect(found[q].map { "\($0.id) \($0.distance)" } == reference(queries[q], codes, ids: ids, k: 15), "query \(q)")
        }
        await index.close()
        let plan = try a.psql(sql: """
            EXPLAIN (VERBOSE, COSTS OFF) SELECT id, bit_count(code # B'\(queries[0].bitString)')::bigint AS d
            FROM tq_notes ORDER BY d, id LIMIT 15;
            """)
        if ProcessInfo.processInfo.environment["TWENTYQ_PRINT_PLAN"] == "1" { print(plan) }
        #expect(plan.contains("Seq Scan on public.tq_notes_p0") && plan.contains("Foreign Scan on public.tq_notes_p1"), "\(plan)")
    }
}
