import BinaryCodes
@testable import CodeStore
import Foundation
import TestSupport
import Testing

/// The multi-index tables kept in LMDB: in step with every write, and searches through them
/// identical to the scan.
@Suite struct MultiIndexStoreTests {
    /// Searches `index` through its tables (forced) and by the scan, and expects the same
    /// answers, ties included, for k-NN and radius search.
    func expectTablesMatchScan(_ index: CodeIndex, queries: CodeMatrix, ks: [Int], radii: [Int], _ note: String) throws {
        let forced = SearchOptions(multiIndex: .always)
        let scan = SearchOptions(multiIndex: .off)
        for k in ks {
            let got = try index.nearest(to: queries, k: k, options: forced)
            let expected = try index.nearest(to: queries, k: k, options: scan)
            #expect(got == expected, "k \(k): \(note)")
        }
        for radius in radii {
            for q in 0 ..< min(3, queries.count) {
                #expect(try index.within(radius: radius, of: queries[q], options: forced) == index.within(radius: radius, of: queries[q], options: scan),
                        "radius \(radius): \(note)")
            }
        }
    }

    /// The scan over the index's codes, checked against the naive reference once, so that the
    /// comparison above does not lean on a broken scan.
    func expectScanIsReference(_ index: CodeIndex, query: BinaryCode) throws {
        let all = try index.withCodeBlocks { codes, _ in
            try CodeMatrix(bits: index.bits, words: codes.blocks.flatMap { Array(UnsafeBufferPointer(start: $0.words, count: $0.count * index.wordsPerCode)) })
        }
        let got = try index.nearest(to: CodeMatrix(bits: index.bits, words: query.words), k: 7, options: SearchOptions(multiIndex: .off))[0]
        let reference = HammingReference.nearest(to: query, in: all, k: 7)
        #expect(got.map { "\($0.id) \($0.distance)" } == (try reference.map { "\(try index.id(atSlot: $0.id) ?? "?") \($0.distance)" }))
    }

    /// `floor` lowers the thresholds of `maxUnindexed` and `maxPending` so that a few thousand
    /// codes make several levels, merges and full rebuilds.
    @Test(arguments: [(32, nil, 1024), (64, nil, 32), (100, 5, 64), (128, 6, 16)] as [(Int, Int?, Int)])
    func tablesStayInStepThroughAddsReplacementsAndRemovals(bits: Int, m: Int?, floor: Int) throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: bits)
        index.levelFloor = floor
        try index.configureMultiIndex(MultiIndexSettings(substrings: m, minimumCount: 300))
        let pool = try clusteredCodes(bits: bits, count: 6000, seed: UInt64(bits), noise: bits / 10)
        var rng = SeededGenerator(seed: 99)
        var live: [String] = []
        var next = 0
        var rebuilds = Set<Int>()
        var mostLevels = 0
        for step in 0..<16 {
            // Adds (small ones first, so that levels pile up); from the eleventh step, every
            // other step also replacements and removals.
            let adds = step < 9 ? Int(rng.next() % 100) + 40 : Int(rng.next() % 400) + 50
            var batch: [IndexEntry] = []
            for _ in 0..<adds {
                batch.append(IndexEntry(id: "d\(next)", code: pool[next % pool.count]))
                live.append("d\(next)")
                next += 1
            }
            if step >= 10 && step % 2 == 0 {
                for _ in 0..<40 {
                    let id = live[Int(rng.next() % UInt64(live.count))]
                    if batch.contains(where: { $0.id == id }) { continue }
                    batch.append(IndexEntry(id: id, code: pool[Int(rng.next() % UInt64(pool.count))]))
                }
            }
            try index.add(batch)
            if step >= 10 && step % 2 == 0 {
                var gone = Set<String>()
                for _ in 0..<Int(rng.next() % 150) { gone.insert(live[Int(rng.next() % UInt64(live.count))]) }
                try index.remove(ids: Array(gone))
                live.removeAll { gone.contains($0) }
            }
            let status = try index.multiIndexStatus()
            #expect(status.built == (live.count >= 300), "step \(step): \(live.count) codes, \(status)")
            if status.built {
                #expect(status.pending <= CodeIndex.maxPending(count: live.count, floor: floor))
                #expect(status.unindexed <= CodeIndex.maxUnindexed(count: live.count, floor: floor))
                #expect(status.levels.reduce(0, +) == status.builtCount && status.builtCount + status.unindexed >= live.count)
                // Each level holds more than twice the codes of the next.
                #expect(zip(status.levels, status.levels.dropFirst()).allSatisfy { $0 > 2 * $1 }, "\(status.levels)")
                #expect(status.substrings == MultiIndexLayout(bits: bits, count: status.levels[0], substrings: m).substrings.count)
                rebuilds.insert(status.levels[0])
                mostLevels = max(mostLevels, status.levels.count)
            }
            let queries = try clusteredCodes(bits: bits, count: 5, seed: UInt64(step + 1000), noise: bits / 10)
            try expectTablesMatchScan(index, queries: queries, ks: [1, 10, 60], radii: [0, bits / 8], "bits \(bits) step \(step)")
            #expect(try index.count == live.count)
        }
        // The pending list filled up and the writes rebuilt the tables more than once; with a
        // low floor, appends made levels of their own.
        #expect(rebuilds.count >= 2, "\(rebuilds)")
        if floor < 100 { #expect(mostLevels >= 3, "at most \(mostLevels) levels") }
        try expectScanIsReference(index, query: pool[3])
    }

    @Test func nearQueriesAreAnsweredByTheTablesAfterReopening() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let path = dir.appending("idx")
        let codes = try randomMatrix(bits: 64, count: 20_000, seed: 8)
        do {
            let index = try CodeIndex.create(at: path, bits: 64)
            try index.configureMultiIndex(MultiIndexSettings(minimumCount: 1000))
            try index.add((0..<codes.count).map { IndexEntry(id: "c\($0)", code: codes[$0]) })
        }
        let index = try CodeIndex.open(at: path, readOnly: true)
        let status = try index.multiIndexStatus()
        #expect(status.built && status.builtCount == 20_000 && status.substrings == MultiIndex.defaultSubstrings(bits: 64, count: 20_000))
        // A stored code with two bits flipped: its neighbours are found from a few buckets.
        var words = codes[123].words
        words[0] ^= 0b101 << 20
        let report = SearchReport()
        var options = SearchOptions()
        options.report = report
        let hits = try index.nearest(to: CodeMatrix(bits: 64, words: words), k: 1, options: options)
        #expect(hits == [[SearchHit(id: "c123", distance: 2)]])
        #expect(report.plans.count == 1 && report.plans[0].method == .multiIndex && report.plans[0].candidates < 200, "\(report.plans)")
        #expect(report.substrings == status.substrings)
        // Random codes have far neighbours: within the default budget the scan answers.
        let far = try randomMatrix(bits: 64, count: 1, seed: 1234)
        #expect(try index.nearest(to: far, k: 10, options: options) == index.nearest(to: far, k: 10, options: SearchOptions(multiIndex: .off)))
        #expect(report.plans[0].method == .scan)
    }

    /// In auto mode, queries the tables do not pay for stop the next ones from trying them,
    /// and near queries bring them back; answers are the scan's throughout.
    @Test func thePlannerRemembersWhetherTheTablesPaid() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let codes = try randomMatrix(bits: 64, count: 20_000, seed: 31)
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 64)
        try index.configureMultiIndex(MultiIndexSettings(minimumCount: 1000))
        try index.add((0..<codes.count).map { IndexEntry(id: "c\($0)", code: codes[$0]) })
        let report = SearchReport()
        var options = SearchOptions()
        options.report = report
        func run(_ query: CodeMatrix, k: Int) throws -> MultiIndexPlan {
            #expect(try index.nearest(to: query, k: k, options: options) == index.nearest(to: query, k: k, options: SearchOptions(multiIndex: .off)))
            return report.plans[0]
        }
        // Random queries: their neighbours are far, the tables never pay.
        let far = try randomMatrix(bits: 64, count: 48, seed: 32)
        let farPlans = try (0..<far.count).map { try run(CodeMatrix(bits: 64, words: far[$0].words), k: 5) }
        #expect(farPlans.allSatisfy { $0.method == .scan })
        let tried = farPlans.filter { $0.probes > 0 }.count
        #expect(tried <= MultiIndexHistory.warmUp + far.count / MultiIndexHistory.retryEvery + 1, "\(tried) of \(far.count) tried the tables")
        #expect(report.substrings > 0)
        // Stored codes with two bits flipped, k = 1 (among random codes only the first
        // neighbour is near): a retry pays and the tables answer again.
        let nearPlans = try (0..<40).map { i -> MultiIndexPlan in
            var words = codes[i * 97].words
            words[0] ^= 0b11 << UInt64(i % 60)
            return try run(CodeMatrix(bits: 64, words: words), k: 1)
        }
        #expect(nearPlans.filter { $0.method == .multiIndex }.count >= 40 - MultiIndexHistory.retryEvery, "\(nearPlans.map(\.method))")
        #expect(nearPlans.suffix(20).allSatisfy { $0.method == .multiIndex })
    }

    @Test func settingsAreCheckedAndTablesFollowThem() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 48)
        let codes = try clusteredCodes(bits: 48, count: 2000, seed: 3, noise: 4)
        try index.add((0..<codes.count).map { IndexEntry(id: "c\($0)", code: codes[$0]) })
        // Below the default minimum (65,536 codes): no tables, the scan answers.
        #expect(try index.multiIndexStatus().built == false)
        #expect(throws: IndexError.self) { try index.configureMultiIndex(MultiIndexSettings(substrings: 0)) }
        #expect(throws: IndexError.self) { try index.configureMultiIndex(MultiIndexSettings(substrings: 49)) }
        #expect(throws: IndexError.self) { try index.configureMultiIndex(MultiIndexSettings(substrings: 1)) } // one 48-bit table
        #expect(throws: IndexError.self) { try index.configureMultiIndex(MultiIndexSettings(minimumCount: -1)) }
        var status = try index.configureMultiIndex(MultiIndexSettings(substrings: 5, minimumCount: 100))
        #expect(status.built && status.substrings == 5 && status.substringBits == [10, 10, 10, 9, 9] && status.pending == 0)
        let queries = try clusteredCodes(bits: 48, count: 4, seed: 30, noise: 4)
        try expectTablesMatchScan(index, queries: queries, ks: [5], radii: [3], "m 5")
        status = try index.configureMultiIndex(MultiIndexSettings(enabled: false))
        #expect(!status.built && status.tableBytes == 0)
        try index.add([IndexEntry(id: "one more", code: codes[0])])
        #expect(try index.multiIndexStatus().built == false)
        try index.configureMultiIndex(MultiIndexSettings(minimumCount: 100))
        #expect(try index.multiIndexStatus().built)
        // Falling below the minimum drops the tables in the same transaction.
        try index.remove(ids: (0..<1950).map { "c\($0)" })
        #expect(try index.multiIndexStatus().built == false)
        #expect(try index.count == 51)
    }

    /// Format 2 kept one level, with a version 1 layout record and tables keyed `table` + [t]:
    /// such an index is searched as it is, and its next write rebuilds the tables as levels.
    @Test func oneLevelTablesOfFormatTwoAreReadAndRewritten() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 64)
        let codes = try clusteredCodes(bits: 64, count: 3000, seed: 21, noise: 6)
        try index.add((0..<codes.count).map { IndexEntry(id: "c\($0)", code: codes[$0]) })
        try index.configureMultiIndex(MultiIndexSettings(enabled: false))
        let layout = MultiIndexLayout(bits: 64, exactly: 4)!
        try index.env.write { txn in
            try index.codeBlocks(txn) { slots in
                for t in 0..<4 {
                    let size = layout.tableByteCount(t, entries: 3000, words: 1)
                    let bytes = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
                    defer { bytes.deallocate() }
                    layout.writeTable(t, codes: slots, slots: 0 ..< 3000, into: bytes)
                    try txn.put(index.mih!, key: CodeIndex.legacyTableKey(t), value: UnsafeRawBufferPointer(start: bytes, count: size))
                }
            }
            let record = le(UInt32(1)) + le(UInt32(64)) + le(UInt32(4)) + le(UInt64(3000)) + [16, 16, 16, 16].flatMap { le(UInt32($0)) }
            try txn.put(index.mih!, key: CodeIndex.layoutKey, bytes: record)
            try txn.put(index.mih!, key: CodeIndex.settingsKey, bytes: Array(try JSONEncoder().encode(MultiIndexSettings(minimumCount: 100))))
        }
        var status = try index.multiIndexStatus()
        #expect(status.built && status.levels == [3000] && status.substringBits == [16, 16, 16, 16])
        let queries = try clusteredCodes(bits: 64, count: 5, seed: 22, noise: 6)
        let report = SearchReport()
        var forced = SearchOptions(multiIndex: .always)
        forced.report = report
        _ = try index.nearest(to: queries, k: 3, options: forced)
        #expect(report.plans.allSatisfy { $0.method == .multiIndex })
        try expectTablesMatchScan(index, queries: queries, ks: [1, 10], radii: [4], "version 1 layout")
        try index.add([IndexEntry(id: "new", code: codes[7])])
        let version = try index.env.read { txn in try index.readLevels(txn)?.version }
        #expect(version == 2)
        status = try index.multiIndexStatus()
        #expect(status.levels == [3001])
        try expectTablesMatchScan(index, queries: queries, ks: [1, 10], radii: [4], "rewritten as levels")
    }

    @Test func damagedTablesAreReportedNotTrusted() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 64)
        let codes = try randomMatrix(bits: 64, count: 500, seed: 2)
        try index.add((0..<codes.count).map { IndexEntry(id: "c\($0)", code: codes[$0]) })
        try index.configureMultiIndex(MultiIndexSettings(minimumCount: 10))
        try index.env.write { txn in try txn.put(index.mih!, key: CodeIndex.tableKey(level: 0, 0), bytes: [1, 2, 3, 4]) }
        #expect {
            try index.nearest(to: codes, k: 3)
        } throws: { error in
            guard case IndexError.damagedTables(_, let detail) = error else { return false }
            return detail.contains("table 0")
        }
        // The scan alone still answers, and a rebuild repairs the tables.
        #expect(try index.nearest(to: codes, k: 1, options: SearchOptions(multiIndex: .off)).count == 500)
        try index.configureMultiIndex(MultiIndexSettings(minimumCount: 10))
        try expectTablesMatchScan(index, queries: codes, ks: [3], radii: [], "repaired")
    }
}
