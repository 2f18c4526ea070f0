import BinaryCodes
import Foundation

/// Sizes and settings of an index, for `twentyq info`.
public struct IndexInfo: Codable, Equatable, Sendable {
    public var path: String
    public var formatVersion: UInt32
    public var bits: Int
    public var count: Int
    public var codesPerChunk: Int
    public var chunks: Int
    public var modelFingerprint: String
    /// Bytes of codes (count x bytes per code).
    public var codeBytes: Int
    /// Size of data.mdb on disk.
    public var fileBytes: Int
    /// Current map size.
    public var mapBytes: Int
    /// LMDB's page statistics of each of TwentyQ's tables, by name.
    public var tables: [String: TableStatistics] = [:]
}

extension CodeIndex {
    func storedCount(_ txn: LMDBTransaction) throws -> Int {
        guard let raw = try txn.get(meta, key: Array("count".utf8)), let n = loadLE(raw, as: UInt64.self),
              let count = Int(exactly: n), count <= Int(UInt32.max).saturatingProduct(codesPerChunk) else {
            throw IndexError.corrupt(path: path, detail: "metadata 'count' is missing or malformed")
        }
        return count
    }

    /// Number of codes (committed state).
    public var count: Int {
        get throws { try guarded("read the index") { try env.read { try storedCount($0) } } }
    }

    /// The code stored for `id`, or nil.
    public func code(for id: String) throws -> BinaryCode? {
        try guarded("read the index") {
            try env.read { txn -> BinaryCode? in
                guard let slot = try storedSlot(of: id, txn) else { return nil }
                guard let index = Int(exactly: slot) else {
                    throw IndexError.corrupt(path: path, detail: "id '\(id)' points to slot \(slot)")
                }
                return try readCode(txn, slot: index)
            }
        }
    }

    /// The slot the ids table gives `id`, or nil when it has none. An id no index can hold
    /// (empty, or longer than LMDB's key limit) has none: it is unknown, not a storage error.
    func storedSlot(of id: String, _ txn: LMDBTransaction) throws -> UInt64? {
        let key = Array(id.utf8)
        guard (1...Self.maxIDBytes).contains(key.count), let raw = try txn.get(ids, key: key) else { return nil }
        return loadLE(raw, as: UInt64.self)
    }

    /// The metadata stored for `id`, or nil when the id is unknown.
    public func metadata(for id: String) throws -> [UInt8]? {
        try metadata(for: [id])[0]
    }

    /// The metadata of each id (nil for unknown ids), from one read transaction.
    public func metadata(for ids: [String]) throws -> [[UInt8]?] {
        try guarded("read the index") {
            try env.read { txn in
                try ids.map { id -> [UInt8]? in
                    guard let slot = try storedSlot(of: id, txn), let index = Int(exactly: slot), let record = try verifiedRecord(txn, slot: index) else { return nil }
                    return Array(record[(4 + Self.decodeRecordID(record).count)...])
                }
            }
        }
    }

    /// The external id at `slot`.
    public func id(atSlot slot: Int) throws -> String? {
        try guarded("read the index") { try env.read { try readID(txn: $0, slot: slot) } }
    }

    func readID(txn: LMDBTransaction, slot: Int) throws -> String? {
        guard let record = try verifiedRecord(txn, slot: slot) else { return nil }
        return String(decoding: Self.decodeRecordID(record), as: UTF8.self)
    }

    func readCode(_ txn: LMDBTransaction, slot: Int) throws -> BinaryCode {
        let c = slot / codesPerChunk, offset = (slot % codesPerChunk) * wordsPerCode * 8
        guard slot >= 0, let chunk = UInt32(exactly: c), let raw = try txn.get(codes, key: be(chunk)),
              raw.count >= offset + wordsPerCode * 8 else {
            throw IndexError.corrupt(path: path, detail: "slot \(slot) is missing from chunk \(c)")
        }
        let words = (0..<wordsPerCode).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8 * $0, as: UInt64.self)) }
        return try BinaryCode(bits: bits, words: words)
    }

    /// Calls `body` with the index's codes as blocks in slot order (slot = id), straight from
    /// the memory map, inside one read transaction.
    /// - Lifetime: the blocks are valid only during the execution of the closure.
    /// - Note: chunk values too small for LMDB's overflow pages may sit unaligned in a leaf
    ///   page; those few are copied to aligned memory for the kernels.
    package func withCodeBlocks<R>(_ body: (SlotCodes, LMDBTransaction) throws -> R) throws -> R {
        try guarded("read the index") {
            try env.read { txn in try codeBlocks(txn) { try body($0, txn) } }
        }
    }

    /// Calls `body` with the codes as `txn` sees them, as blocks in slot order (block b holds
    /// slots `b * codesPerChunk ..< (b + 1) * codesPerChunk`).
    func codeBlocks<R>(_ txn: LMDBTransaction, _ body: (SlotCodes) throws -> R) throws -> R {
        let total = try storedCount(txn)
        var blocks: [CodeBlock] = []
        var copies = AlignedCopies()
        defer { copies.free() }
        var seen = 0
        var failure: Error?
        try txn.forEach(codes) { key, value in
            guard key.count == 4 else { failure = IndexError.corrupt(path: path, detail: "bad chunk key"); return false }
            let c = Int(UInt32(bigEndian: key.loadUnaligned(as: UInt32.self)))
            let n = value.count / (8 * wordsPerCode)
            guard c * codesPerChunk == seen, value.count % (8 * wordsPerCode) == 0, n > 0, n <= codesPerChunk else {
                failure = IndexError.corrupt(path: path, detail: "chunk \(c) does not follow slot \(seen)")
                return false
            }
            blocks.append(CodeBlock(words: copies.aligned(value).assumingMemoryBound(to: UInt64.self), count: n, firstID: seen))
            seen += n
            return true
        }
        if let failure { throw failure }
        guard seen == total else {
            throw IndexError.corrupt(path: path, detail: "codes table holds \(seen) codes, metadata says \(total)")
        }
        return try body(SlotCodes(blocks: blocks, codesPerBlock: codesPerChunk, bits: bits))
    }

    /// The `k` nearest items to each query, ascending by (distance, slot), with their
    /// metadata's fields (`SearchHit.fields`) unless `fields` is false.
    /// - Throws: `CodeError.invalidK`, `IndexError.widthMismatch`.
    public func nearest(to queries: CodeMatrix, k: Int, fields: Bool = true, options: SearchOptions = SearchOptions()) throws -> [[SearchHit]] {
        try checkQueries(bits: queries.bits, k: k)
        return try withCodeBlocks { codes, txn in
            let results = try nearestNeighbors(queries, k: k, options: options, codes: codes, txn: txn)
            return try results.map { list in try list.map { try hit(txn, slot: $0.id, distance: $0.distance, fields: fields) } }
        }
    }

    /// The `k` nearest documents to each query with each hit's metadata, read in the same
    /// transaction as the codes (for rescoring with data kept in the metadata).
    /// - Parameter refine: when given, called for each query (its row, its neighbours
    ///   ascending by (distance, slot), the codes by slot) before any record is read; the
    ///   neighbours it returns, in its order, are the ones whose records are read and returned
    ///   (e.g. a shortlist re-ranked by `AsymmetricScorer`).
    package func nearestWithMetadata(to queries: CodeMatrix, k: Int, options: SearchOptions = SearchOptions(),
                                    refine: ((Int, [Neighbor], SlotCodes) -> [Neighbor])? = nil) throws -> [[(hit: SearchHit, metadata: [UInt8])]] {
        try checkQueries(bits: queries.bits, k: k)
        return try withCodeBlocks { codes, txn in
            var results = try nearestNeighbors(queries, k: k, options: options, codes: codes, txn: txn)
            if let refine {
                results = results.enumerated().map { refine($0.offset, $0.element, codes) }
            }
            return try results.map { list in
                try list.map { n in
                    guard let record = try verifiedRecord(txn, slot: n.id) else {
                        throw IndexError.corrupt(path: path, detail: "slot \(n.id) has no record")
                    }
                    let id = Self.decodeRecordID(record)
                    return (SearchHit(id: String(decoding: id, as: UTF8.self), distance: n.distance), Array(record[(4 + id.count)...]))
                }
            }
        }
    }

    /// Every item within Hamming distance `radius` of `query`, ascending by (distance, slot),
    /// with their metadata's fields unless `fields` is false.
    public func within(radius: Int, of query: BinaryCode, fields: Bool = true, options: SearchOptions = SearchOptions()) throws -> [SearchHit] {
        try checkQueries(bits: query.bits)
        try HammingSearch.check(radius: radius, bits: bits)
        return try withCodeBlocks { codes, txn in
            try neighborsWithin(radius: radius, of: query, options: options, codes: codes, txn: txn).map {
                try hit(txn, slot: $0.id, distance: $0.distance, fields: fields)
            }
        }
    }

    /// The checks of a search's input, once, where it enters the index: the queries' width
    /// and, when given, k.
    /// - Throws: `IndexError.widthMismatch`, `CodeError.invalidK`.
    func checkQueries(bits queryBits: Int, k: Int? = nil) throws {
        if let k { try HammingSearch.check(k: k) }
        guard queryBits == bits else { throw IndexError.widthMismatch(path: path, indexBits: bits, codeBits: queryBits) }
    }

    /// The hit for `slot`: its id from its record and, when asked, the fields of its metadata.
    func hit(_ txn: LMDBTransaction, slot: Int, distance: Int, score: Double? = nil, bm25: Double? = nil, fields: Bool) throws -> SearchHit {
        guard let record = try verifiedRecord(txn, slot: slot) else {
            throw IndexError.corrupt(path: path, detail: "slot \(slot) has no record")
        }
        let id = Self.decodeRecordID(record)
        return SearchHit(id: String(decoding: id, as: UTF8.self), distance: distance, score: score, bm25: bm25,
                         fields: fields ? SearchHit.fields(json: record[(4 + id.count)...]) : [:])
    }

    /// Counts, sizes and settings.
    public func info() throws -> IndexInfo {
        let fileBytes = Self.dataFileSize(path)
        return try guarded("read the index") {
            try env.read { txn in
                let n = try storedCount(txn)
                var info = IndexInfo(path: path, formatVersion: Self.formatVersion, bits: bits, count: n,
                                     codesPerChunk: codesPerChunk, chunks: try txn.entryCount(codes),
                                     modelFingerprint: modelFingerprint, codeBytes: n * wordsPerCode * 8,
                                     fileBytes: fileBytes, mapBytes: env.currentMapSize)
                for db in [meta, codes, ids, records, mih, termsTable, postings, sums, frequencies].compactMap({ $0 }) {
                    info.tables[db.name] = try txn.statistics(db)
                }
                return info
            }
        }
    }
}

extension CodeIndex {
    /// A named blob stored with the index (in `meta` under "blob:" + name), or nil.
    public func blob(_ name: String) throws -> [UInt8]? {
        try guarded("read the index") { try env.read { try $0.get(meta, key: Array(("blob:" + name).utf8)).map { Array($0) } } }
    }

    /// Stores a named blob with the index, replacing any previous one, in one transaction.
    public func setBlob(_ name: String, _ bytes: [UInt8]) throws {
        guard !isReadOnly else { throw IndexError.readOnly(path: path) }
        try guarded("write the index") { try env.write { try $0.put(meta, key: Array(("blob:" + name).utf8), bytes: bytes) } }
    }
}

extension CodeIndex {
    /// Calls `body` with every document in slot order: id, metadata and code, from one
    /// consistent snapshot. Stops early when `body` returns false.
    public func forEachRecord(_ body: (_ id: String, _ metadata: [UInt8], _ code: BinaryCode) throws -> Bool) throws {
        try forEachEntry(terms: false) { try body($0.id, $0.metadata, $0.code) }
    }

    /// Every entry in slot order, as `forEachRecord`, each with its term record when `terms` is
    /// true (what `twentyq copy` moves into another store).
    package func forEachEntry(terms: Bool, _ body: (IndexEntry) throws -> Bool) throws {
        try withCodeBlocks { codes, txn in
            for block in codes.blocks {
                for i in 0..<block.count {
                    let slot = block.firstID + i
                    guard let record = try verifiedRecord(txn, slot: slot) else {
                        throw IndexError.corrupt(path: path, detail: "slot \(slot) has no record")
                    }
                    let idBytes = Self.decodeRecordID(record)
                    let words = Array(UnsafeBufferPointer(start: block.words! + i * wordsPerCode, count: wordsPerCode))
                    let entry = IndexEntry(id: String(decoding: idBytes, as: UTF8.self), code: try BinaryCode(bits: bits, words: words),
                                           metadata: Array(record[(4 + idBytes.count)...]), terms: terms ? try storedTerms(txn, slot: slot) : nil)
                    if !(try body(entry)) { return }
                }
            }
        }
    }
}

/// Values LMDB left at addresses not aligned to 8 bytes (small ones, in a leaf page), copied to
/// aligned memory for the kernels; freed together by `free()` when the transaction ends.
struct AlignedCopies {
    private var copies: [UnsafeMutableRawPointer] = []

    /// `value`'s bytes at an 8-byte-aligned address: the value itself, or a copy.
    mutating func aligned(_ value: UnsafeRawBufferPointer) -> UnsafeRawPointer {
        let base = value.baseAddress!
        if Int(bitPattern: base) % 8 == 0 { return base }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: value.count, alignment: 8)
        copy.copyMemory(from: base, byteCount: value.count)
        copies.append(copy)
        return UnsafeRawPointer(copy)
    }

    func free() { copies.forEach { $0.deallocate() } }
}
