import BinaryCodes
import CLMDB
@testable import CodeStore
import Foundation
import TestSupport
import Testing

@Suite struct CodeIndexTests {
    func entries(_ range: Range<Int>, bits: Int, seed: UInt64 = 1) throws -> [IndexEntry] {
        try range.map { IndexEntry(id: "doc-\($0)", code: try SyntheticCodes.code(index: $0, bits: bits, seed: seed),
                                   metadata: Array("{\"n\":\($0)}".utf8)) }
    }

    /// The slot of a hit from an index filled by `entries` in order, nothing removed ("doc-N" is
    /// at slot N).
    func slot(_ hit: SearchHit) -> Int { Int(hit.id.dropFirst(4)) ?? -1 }

    @Test(arguments: [64, 100, 256, 1024])
    func addedCodesReadBackAndSurviveReopening(bits: Int) throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let path = dir.appending("idx")
        do {
            let index = try CodeIndex.create(at: path, bits: bits, modelFingerprint: "test-model")
            #expect(try index.add(try entries(0..<500, bits: bits)) == AddSummary(added: 500, replaced: 0))
            #expect(try index.add(try entries(500..<9000, bits: bits)) == AddSummary(added: 8500, replaced: 0))
        }
        let index = try CodeIndex.open(at: path, readOnly: true)
        #expect(try index.count == 9000)
        #expect(index.bits == bits)
        #expect(index.modelFingerprint == "test-model")
        for i in [0, 1, 4095, 4096, 8999] {
            #expect(try index.code(for: "doc-\(i)") == (try SyntheticCodes.code(index: i, bits: bits, seed: 1)))
            #expect(try index.id(atSlot: i) == "doc-\(i)")
        }
        #expect(try index.metadata(for: "doc-42") == Array("{\"n\":42}".utf8))
        #expect(try index.code(for: "missing") == nil)
        let info = try index.info()
        #expect(info.count == 9000 && info.codeBytes == 9000 * BinaryCode.wordCount(bits: bits) * 8)
    }

    @Test func searchFromTheMapMatchesTheReference() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 192)
        // Small chunks would sit unaligned in leaf pages; 10,000 codes span several overflow chunks.
        try index.add(try entries(0..<7, bits: 192))
        let small = try randomMatrix(bits: 192, count: 3, seed: 4)
        var all = try CodeMatrix(bits: 192)
        for i in 0..<7 { try all.append(try SyntheticCodes.code(index: i, bits: 192, seed: 1)) }
        var got = try index.nearest(to: small, k: 5)
        for q in 0..<3 {
            #expect(got[q].map(slot) == HammingReference.nearest(to: small[q], in: all, k: 5).map(\.id))
            // Each hit carries its metadata's members as fields ({"n": slot} here).
            #expect(got[q].allSatisfy { $0.fields == ["n": String(slot($0))] })
        }
        try index.add(try entries(7..<10_000, bits: 192))
        for i in 7..<10_000 { try all.append(try SyntheticCodes.code(index: i, bits: 192, seed: 1)) }
        let queries = try randomMatrix(bits: 192, count: 9, seed: 5)
        got = try index.nearest(to: queries, k: 12, fields: false, options: SearchOptions(threads: 2, kernel: .best, minPairsForThreads: 0))
        for q in 0..<9 {
            let expected = HammingReference.nearest(to: queries[q], in: all, k: 12)
            #expect(got[q].map { Neighbor(id: slot($0), distance: $0.distance) } == expected)
        }
        let radius = try index.within(radius: 80, of: queries[0])
        #expect(radius.map { Neighbor(id: slot($0), distance: $0.distance) } == HammingReference.within(radius: 80, of: queries[0], in: all))
    }

    @Test func replacingAnIDKeepsItsSlotAndCount() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 64)
        try index.add(try entries(0..<10, bits: 64))
        let newCode = try BinaryCode(bits: 64, words: [0xdead_beef])
        #expect(try index.add([IndexEntry(id: "doc-3", code: newCode), IndexEntry(id: "doc-10", code: newCode)])
                == AddSummary(added: 1, replaced: 1))
        #expect(try index.count == 11)
        #expect(try index.code(for: "doc-3") == newCode)
        #expect(try index.id(atSlot: 3) == "doc-3")
        #expect(try index.metadata(for: "doc-3") == [])
    }

    @Test func removingMovesTheLastCodeIntoTheHole() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 4096) // 256 codes per chunk
        try index.add(try entries(0..<600, bits: 4096))
        #expect(try index.remove(ids: ["doc-5", "doc-599", "doc-300", "doc-5"]) == 3)
        #expect(try index.count == 597)
        var expected: [String: BinaryCode] = [:]
        for i in 0..<600 where ![5, 599, 300].contains(i) { expected["doc-\(i)"] = try SyntheticCodes.code(index: i, bits: 4096, seed: 1) }
        // Every survivor is findable by id, at a slot that maps back to it, with its code.
        try index.withCodeBlocks { codes, _ in #expect(codes.count == 597 && codes.bits == 4096) }
        for (id, code) in expected {
            #expect(try index.code(for: id) == code)
            let hit = try index.nearest(to: try CodeMatrix(bits: 4096, words: code.words), k: 1)[0][0]
            #expect(hit.id == id && hit.distance == 0)
        }
        #expect(Set(try (0..<597).map { try index.id(atSlot: $0) }) == Set(expected.keys))
        for gone in ["doc-5", "doc-599", "doc-300"] { #expect(try index.code(for: gone) == nil) }
    }

    @Test func removingEverythingLeavesAnEmptySearchableIndex() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 64)
        try index.add(try entries(0..<20, bits: 64))
        try index.remove(ids: (0..<20).map { "doc-\($0)" })
        #expect(try index.count == 0)
        #expect(try index.nearest(to: try randomMatrix(bits: 64, count: 2, seed: 1), k: 3) == [[], []])
        try index.add(try entries(0..<2, bits: 64))
        #expect(try index.count == 2)
    }

    @Test func unknownIDRemovesNothing() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 64)
        try index.add(try entries(0..<5, bits: 64))
        #expect(throws: IndexError.self) { try index.remove(ids: ["doc-1", "nope"]) }
        #expect(try index.count == 5)
        #expect(try index.code(for: "doc-1") != nil)
    }

    /// Ids no index can hold (empty, over LMDB's key limit) are unknown to lookups and removal,
    /// never a storage error (LMDB refuses such keys with MDB_BAD_VALSIZE).
    @Test func idsNoIndexCanHoldAreUnknownNotStorageErrors() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 64)
        try index.add(try entries(0..<3, bits: 64))
        for id in ["", String(repeating: "x", count: CodeIndex.maxIDBytes + 1)] {
            #expect(try index.code(for: id) == nil)
            #expect(try index.metadata(for: [id, "doc-1"]).map { $0 != nil } == [false, true])
            #expect { try index.remove(ids: [id]) } throws: { error in
                guard case IndexError.unknownID = error else { return false }
                return true
            }
            #expect { try index.add([IndexEntry(id: id, code: try BinaryCode(bits: 64, words: [1]))]) } throws: { error in
                guard case IndexError.invalidID = error else { return false }
                return true
            }
        }
        #expect(try index.count == 3)
    }

    @Test func badBatchesWriteNothing() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let index = try CodeIndex.create(at: dir.appending("idx"), bits: 64)
        try index.add(try entries(0..<5, bits: 64))
        let code = try BinaryCode(zeroBits: 64)
        #expect { try index.add([IndexEntry(id: "a", code: code), IndexEntry(id: "a", code: code)]) } throws: {
            "\($0)".contains("appears more than once")
        }
        #expect { try index.add([IndexEntry(id: "b", code: code), IndexEntry(id: "c", code: try BinaryCode(zeroBits: 128))]) } throws: {
            "\($0)".contains("holds 64-bit codes; got a 128-bit code")
        }
        #expect { try index.add([IndexEntry(id: "", code: code)]) } throws: { "\($0)".contains("must not be empty") }
        #expect { try index.add([IndexEntry(id: String(repeating: "x", count: 600), code: code)]) } throws: {
            "\($0)".contains("at most 511 bytes")
        }
        #expect(try index.count == 5)
        #expect(try index.code(for: "b") == nil)
    }

    @Test func reopeningWithAnotherWidthOrModelIsRefused() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let path = dir.appending("idx")
        _ = try CodeIndex.create(at: path, bits: 256, modelFingerprint: "m1")
        #expect { try CodeIndex.openOrCreate(at: path, bits: 128, modelFingerprint: "m1") } throws: {
            "\($0)".contains("holds 256-bit codes; got a 128-bit code")
        }
        #expect { try CodeIndex.openOrCreate(at: path, bits: 256, modelFingerprint: "m2") } throws: {
            "\($0)".contains("built with model m1, not m2")
        }
        #expect { try CodeIndex.create(at: path, bits: 256) } throws: { "\($0)".contains("already holds an index") }
    }

    @Test func readOnlyHandlesRefuseWrites() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let path = dir.appending("idx")
        try CodeIndex.create(at: path, bits: 64).add(try entries(0..<3, bits: 64))
        let reader = try CodeIndex.open(at: path, readOnly: true)
        #expect { try reader.add(try entries(3..<4, bits: 64)) } throws: { "\($0)".contains("opened read-only") }
        #expect { try reader.remove(ids: ["doc-0"]) } throws: { "\($0)".contains("opened read-only") }
        #expect(try reader.count == 3)
    }

    @Test func pathsThatAreNotIndexesAreNamed() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        #expect { try CodeIndex.open(at: dir.appending("absent")) } throws: { "\($0)".contains("does not exist") }
        _ = FileManager.default.createFile(atPath: dir.appending("file"), contents: Data("x".utf8))
        #expect { try CodeIndex.open(at: dir.appending("file")) } throws: { "\($0)".contains("is a file, not an index directory") }
        try FileManager.default.createDirectory(atPath: dir.appending("other"), withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: dir.appending("other/notes.txt"), contents: Data("x".utf8))
        #expect { try CodeIndex.open(at: dir.appending("other")) } throws: { "\($0)".contains("has no data.mdb") }
        #expect { try CodeIndex.create(at: dir.appending("other"), bits: 64) } throws: { "\($0)".contains("not empty") }
        #expect(FileManager.default.fileExists(atPath: dir.appending("other/notes.txt")))
    }

    @Test func aCorruptDataFileIsReportedNotCrashedOn() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let path = dir.appending("idx")
        try CodeIndex.create(at: path, bits: 64).add(try entries(0..<100, bits: 64))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path + "/data.mdb"))
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 2 * 4096)) // both meta pages
        try handle.close()
        #expect { try CodeIndex.open(at: path) } throws: { "\($0)".contains("is damaged") }
        #expect { try CodeIndex.open(at: path, readOnly: true) } throws: { "\($0)".contains("is damaged") }
    }

    @Test func anLMDBFileWithoutOurSchemaIsNotAnIndex() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let env = try LMDBEnvironment(path: dir.path, readOnly: false)
        let db = try env.openDatabase("other", create: true)
        try env.write { try $0.put(db, key: Array("k".utf8), bytes: Array("v".utf8)) }
        #expect { try CodeIndex.open(at: dir.path) } throws: { "\($0)".contains("is not a TwentyQ index") }
    }

    /// Duplicates added through one cursor (`addDuplicates`, the postings' bulk path) give the
    /// table that adding them one by one (`duplicate`) gives, in any order, pairs already there
    /// left as they are.
    @Test func duplicatesAddedThroughOneCursorEqualOneByOne() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let env = try LMDBEnvironment(path: dir.path, readOnly: false)
        let flags = UInt32(MDB_DUPSORT | MDB_DUPFIXED)
        let bulk = try env.openDatabase("bulk", create: true, flags: flags), single = try env.openDatabase("single", create: true, flags: flags)
        var rng = SeededGenerator(seed: 5)
        // 20 keys over 3 partitions, 2,000 pairs with repeats, in random order, then sorted.
        let pairs = (0..<2_000).map { _ in
            (key: (UInt32(rng.next() % 3), (rng.next() % 20) << 40 | 7), value: UInt16(truncatingIfNeeded: rng.next() % 300))
        }
        let sorted = pairs.sorted { a, b in (a.key.0, a.key.1, a.value) < (b.key.0, b.key.1, b.value) }
        for (db, first) in [(bulk, pairs[0]), (single, pairs[0])] {
            try env.write { try $0.duplicate(db, key: first.key, value: first.value, delete: false) }
        }
        try env.write { txn in
            var shuffled = pairs.makeIterator(), ordered = sorted.makeIterator()
            try txn.addDuplicates(bulk) { shuffled.next() }
            try txn.addDuplicates(bulk) { ordered.next() }  // every pair again: all already there
            for p in pairs { try txn.duplicate(single, key: p.key, value: p.value, delete: false) }
        }
        func contents(_ db: LMDBDatabase) throws -> [[UInt8]] {
            var out: [[UInt8]] = []
            try env.read { try $0.forEach(db) { key, value in out.append(Array(key) + Array(value)); return true } }
            return out
        }
        let expected = Set(pairs.map { "\($0.key.0) \($0.key.1) \($0.value)" }).count
        #expect(try contents(bulk) == contents(single))
        #expect(try contents(bulk).count == expected && expected > 1_000)
    }

    @Test func theMapGrowsWhenABatchDoesNotFit() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let env = try LMDBEnvironment(path: dir.path, readOnly: false, mapSize: 1 << 20)
        let db = try env.openDatabase("blobs", create: true)
        let blob = [UInt8](repeating: 7, count: 64 * 1024)
        var runs = 0
        try env.write { txn in
            runs += 1
            for i in 0..<100 { try txn.put(db, key: Array("k\(i)".utf8), bytes: blob) } // 6.4 MB into a 1 MiB map
        }
        #expect(runs > 1) // aborted, grown and redone
        #expect(env.currentMapSize >= 8 << 20)
        #expect(try env.read { try $0.entryCount(db) } == 100)
    }

    @Test func readersKeepTheirSnapshotWhileAWriterCommits() throws {
        let dir = try TemporaryDirectory(); defer { dir.remove() }
        let path = dir.appending("idx")
        let writer = try CodeIndex.create(at: path, bits: 64)
        try writer.add(try entries(0..<10, bits: 64))
        let reader = try CodeIndex.open(at: path, readOnly: true)
        try reader.withCodeBlocks { codes, _ in
            try writer.add(try entries(10..<20, bits: 64)) // commits while the read transaction is open
            #expect(codes.count == 10 && codes.blocks.reduce(0) { $0 + $1.count } == 10)
        }
        #expect(try reader.count == 20)
    }
}
