import BinaryCodes
import CLMDB
import Foundation

// The tables are written and read in memory order, which the schema defines as little-endian.
#if _endian(big)
#error("TwentyQ's index format assumes a little-endian CPU")
#endif

/// How an index keeps multi-index hashing tables. Stored in the index; change it with
/// `CodeIndex.configureMultiIndex(_:)` (`twentyq tables`).
public struct MultiIndexSettings: Codable, Equatable, Sendable {
    /// Keep tables at all.
    public var enabled: Bool
    /// Substrings per code (m); nil chooses m = bits / log2(count) at each rebuild.
    public var substrings: Int?
    /// No tables below this many codes: a scan of a small index takes microseconds.
    public var minimumCount: Int

    public static let defaultMinimumCount = 65_536

    public init(enabled: Bool = true, substrings: Int? = nil, minimumCount: Int = MultiIndexSettings.defaultMinimumCount) {
        self.enabled = enabled
        self.substrings = substrings
        self.minimumCount = minimumCount
    }
}

/// What an index's tables look like now (`twentyq info`).
public struct MultiIndexStatus: Codable, Equatable, Sendable {
    public var settings: MultiIndexSettings
    /// Whether tables exist (they do when enabled and the index holds at least
    /// `minimumCount` codes).
    public var built: Bool
    public var substrings: Int
    public var substringBits: [Int]
    /// Codes the tables were built over.
    public var builtCount: Int
    /// Codes added or changed since, which searches compare directly until the next rebuild.
    public var pending: Int
    /// Pending codes that trigger a rebuild.
    public var maxPending: Int
    /// Bytes of the tables' values (offsets and slots), beside the codes.
    public var tableBytes: Int
}

/// The tables as one read transaction sees them: views into the memory map (or aligned
/// copies of values LMDB left unaligned), valid until the transaction ends.
struct MultiIndexView {
    let layout: MultiIndexLayout
    let tables: [MultiIndexTable]
    let pending: UnsafeBufferPointer<UInt32>
    let builtCount: Int
}

// MARK: - Schema of the `mih` table
//
// Format version 2 adds a named database `mih`:
// - `settings`: JSON of `MultiIndexSettings`.
// - `layout` (present when tables exist): UInt32 LE version (1), bits, m, then UInt64 LE
//   builtCount, then m x UInt32 LE substring lengths (substring t starts where t - 1 ends).
// - `table` + one byte t: table t: UInt32 LE 2^length + 1 offsets, then builtCount UInt32 LE
//   slots, then 4 zero bytes when that count of UInt32s is odd, then builtCount codes (words
//   LE, as in `codes`) in the same entry order: the entries whose substring t has value v
//   are `offsets[v] ..< offsets[v + 1]`, ascending by slot.
// - `pending`: ascending UInt32 LE slots whose code is not in the tables as it is now (added,
//   replaced, or moved by a removal since the last rebuild). Every write transaction updates
//   it with its codes; past `maxPending` the same transaction rebuilds the tables.

extension CodeIndex {
    static let layoutKey = Array("layout".utf8)
    static let pendingKey = Array("pending".utf8)
    static let settingsKey = Array("settings".utf8)
    static func tableKey(_ t: Int) -> [UInt8] { Array("table".utf8) + [UInt8(t)] }

    /// Pending codes that trigger a rebuild: 1/64 of the index, at least 1,024. A search
    /// compares each pending code directly, so this bounds that extra work to 1/64 of a scan;
    /// a rebuild costs about one pass over the codes per table, so spread over the inserts
    /// that fill the pending list it adds about m / 64 of a pass per insert.
    public static func maxPending(count: Int) -> Int { max(1024, count / 64) }

    // MARK: Settings and status

    func readSettings(_ txn: LMDBTransaction) throws -> MultiIndexSettings {
        guard let mih, let raw = try txn.get(mih, key: Self.settingsKey) else { return MultiIndexSettings() }
        do {
            return try JSONDecoder().decode(MultiIndexSettings.self, from: Data(raw))
        } catch {
            throw IndexError.corrupt(path: path, detail: "multi-index settings are not valid JSON")
        }
    }

    /// Changes how the index keeps its tables and rebuilds (or drops) them to match, in one
    /// transaction.
    /// - Throws: `IndexError.readOnly`, `.invalidSetting` for m outside 1...bits (or giving
    ///   substrings longer than 24 bits) or a negative minimum.
    @discardableResult
    public func configureMultiIndex(_ settings: MultiIndexSettings) throws -> MultiIndexStatus {
        guard !isReadOnly else { throw IndexError.readOnly(path: path) }
        if let m = settings.substrings, MultiIndexLayout(bits: bits, exactly: m) == nil {
            throw IndexError.invalidSetting("substrings must be between \((bits + 23) / 24) and \(bits) for \(bits)-bit codes (got \(m))")
        }
        guard settings.minimumCount >= 0 else {
            throw IndexError.invalidSetting("the minimum count must be at least 0 (got \(settings.minimumCount))")
        }
        try guarded("write the index") {
            try env.write { txn in
                guard let mih else { throw IndexError.corrupt(path: path, detail: "the index has no 'mih' table") }
                let json = try JSONEncoder().encode(settings)
                try txn.put(mih, key: Self.settingsKey, bytes: Array(json))
                try rebuildOrDropTables(txn, count: try storedCount(txn), settings: settings)
            }
        }
        return try multiIndexStatus()
    }

    /// The tables' settings (readable even when the tables themselves are damaged).
    public func multiIndexSettings() throws -> MultiIndexSettings {
        try guarded("read the index") { try env.read { try readSettings($0) } }
    }

    /// The tables' settings, size and state.
    public func multiIndexStatus() throws -> MultiIndexStatus {
        try guarded("read the index") {
            try env.read { txn in
                let settings = try readSettings(txn)
                let count = try storedCount(txn)
                var status = MultiIndexStatus(settings: settings, built: false, substrings: 0, substringBits: [], builtCount: 0,
                                              pending: 0, maxPending: Self.maxPending(count: count), tableBytes: 0)
                try withMultiIndexView(txn) { view in
                    guard let view else { return }
                    status.built = true
                    status.substrings = view.layout.substrings.count
                    status.substringBits = view.layout.substrings.map(\.length)
                    status.builtCount = view.builtCount
                    status.pending = view.pending.count
                    status.tableBytes = view.layout.substrings.reduce(0) { $0 + tableValueBytes(length: $1.length, count: view.builtCount) }
                }
                return status
            }
        }
    }

    /// Bytes of one table's value: offsets, slots, padding to 8 bytes, code copies.
    func tableValueBytes(length: Int, count: Int) -> Int {
        let header = (1 << length) + 1 + count
        return 4 * (header + header % 2) + 8 * wordsPerCode * count
    }

    // MARK: Reading

    /// Calls `body` with the tables as `txn` sees them, or nil when there are none or `skip`
    /// (then the tables are not read at all, so damaged ones cannot stop a scan).
    /// - Throws: `IndexError.corrupt` when the stored layout or a table's size is inconsistent.
    func withMultiIndexView<R>(_ txn: LMDBTransaction, unless skip: Bool = false, _ body: (MultiIndexView?) throws -> R) throws -> R {
        guard !skip, let mih, let raw = try txn.get(mih, key: Self.layoutKey) else { return try body(nil) }
        func corrupt(_ detail: String) -> IndexError {
            .corrupt(path: path, detail: "multi-index tables: \(detail); the codes are intact: `twentyq tables --enable` rebuilds the tables from them, and `twentyq search --method scan` searches without them")
        }
        let field = { (at: Int) -> Int in Int(loadLE(UnsafeRawBufferPointer(rebasing: raw[at ..< at + 4]), as: UInt32.self)!) }
        guard raw.count >= 20, field(0) == 1 else { throw corrupt("unknown layout record") }
        let m = field(8)
        let builtCount = Int(loadLE(UnsafeRawBufferPointer(rebasing: raw[12 ..< 20]), as: UInt64.self)!)
        guard field(4) == bits, raw.count == 20 + 4 * m, let layout = MultiIndexLayout(bits: bits, exactly: m),
              layout.substrings.map(\.length) == (0..<m).map({ field(20 + 4 * $0) }) else {
            throw corrupt("the layout does not fit \(bits)-bit codes")
        }
        var copies = AlignedCopies()
        defer { copies.free() }
        /// The value as UInt32s, copied when LMDB left it unaligned.
        func words(_ value: UnsafeRawBufferPointer) -> UnsafeBufferPointer<UInt32> {
            guard value.count > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
            return UnsafeBufferPointer(start: copies.aligned(value).assumingMemoryBound(to: UInt32.self), count: value.count / 4)
        }
        var tables: [MultiIndexTable] = []
        for (t, range) in layout.substrings.enumerated() {
            let offsetCount = (1 << range.length) + 1
            guard let value = try txn.get(mih, key: Self.tableKey(t)), value.count == tableValueBytes(length: range.length, count: builtCount) else {
                throw corrupt("table \(t) is missing or has the wrong size")
            }
            let all = words(value)
            let header = offsetCount + builtCount
            let codes = UnsafeRawPointer(all.baseAddress! + header + header % 2).assumingMemoryBound(to: UInt64.self)
            tables.append(MultiIndexTable(offsets: all.baseAddress!, ids: all.baseAddress! + offsetCount, codes: codes, idCount: builtCount))
        }
        let pendingRaw = try txn.get(mih, key: Self.pendingKey)
        guard (pendingRaw?.count ?? 0) % 4 == 0 else { throw corrupt("the pending list has a partial entry") }
        let pending = pendingRaw.map { words($0) } ?? UnsafeBufferPointer(start: nil, count: 0)
        return try body(MultiIndexView(layout: layout, tables: tables, pending: pending, builtCount: builtCount))
    }

    // MARK: Writing

    /// Brings the tables in step with this transaction's changes: `changed` slots (appended,
    /// replaced, or given another code by a removal) join the pending list, slots at or past
    /// `count` leave it; past `maxPending` (or when the tables should appear or go) the
    /// tables are rebuilt from the codes as this transaction sees them.
    func maintainMultiIndex(_ txn: LMDBTransaction, changed: Set<Int>, count: Int) throws {
        guard let mih else { return }
        let settings = try readSettings(txn)
        let wanted = settings.enabled && count >= max(1, settings.minimumCount)
        let exists = try txn.get(mih, key: Self.layoutKey) != nil
        guard wanted && exists else {
            if wanted || exists { try rebuildOrDropTables(txn, count: count, settings: settings) }
            return
        }
        var pending = Set<Int>(changed.filter { $0 < count })
        if let raw = try txn.get(mih, key: Self.pendingKey) {
            for i in 0 ..< raw.count / 4 {
                let slot = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                if slot < count { pending.insert(slot) }
            }
        }
        if pending.count > Self.maxPending(count: count) {
            try rebuildOrDropTables(txn, count: count, settings: settings)
        } else {
            try writePending(txn, mih, pending.sorted())
        }
    }

    private func writePending(_ txn: LMDBTransaction, _ mih: LMDBDatabase, _ slots: [Int]) throws {
        if slots.isEmpty {
            try txn.delete(mih, key: Self.pendingKey)
            return
        }
        let words = slots.map { UInt32($0).littleEndian }
        try words.withUnsafeBytes { try txn.put(mih, key: Self.pendingKey, value: $0) }
    }

    /// Drops the tables, and builds them anew over the codes `txn` sees when the settings
    /// want tables for `count` codes.
    func rebuildOrDropTables(_ txn: LMDBTransaction, count: Int, settings: MultiIndexSettings) throws {
        guard let mih else { return }
        var t = 0
        while try txn.delete(mih, key: Self.tableKey(t)) { t += 1 }
        try txn.delete(mih, key: Self.layoutKey)
        try txn.delete(mih, key: Self.pendingKey)
        guard settings.enabled && count >= max(1, settings.minimumCount) else { return }
        let layout = MultiIndexLayout(bits: bits, count: count, substrings: settings.substrings)
        try codeBlocks(txn) { blocks in
            let codes = SlotCodes(blocks: blocks, codesPerBlock: codesPerChunk, words: wordsPerCode)
            for t in layout.substrings.indices {
                // One table at a time, written straight into the map: a table is tens of
                // megabytes at a million codes.
                let table = layout.buildTable(t, codes)
                try txn.put(mih, key: Self.tableKey(t), reserving: tableValueBytes(length: layout.substrings[t].length, count: count)) { out in
                    var at = 0
                    for part in [table.offsets, table.ids] {
                        part.withUnsafeBytes { out.baseAddress!.advanced(by: at).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                        at += 4 * part.count
                    }
                    if at % 8 != 0 { out.storeBytes(of: 0, toByteOffset: at, as: UInt32.self) }
                    at += at % 8
                    table.codes.withUnsafeBytes { if $0.count > 0 { out.baseAddress!.advanced(by: at).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
                }
            }
        }
        var record = le(UInt32(1)) + le(UInt32(bits)) + le(UInt32(layout.substrings.count)) + le(UInt64(count))
        for range in layout.substrings { record += le(UInt32(range.length)) }
        try txn.put(mih, key: Self.layoutKey, bytes: record)
    }
}

// MARK: - Searching through the tables

extension CodeIndex {
    /// The k nearest slots to each query: through the tables where they exist and
    /// `options.multiIndex` allows, else (and for every query whose budget ran out) by one
    /// batch scan. Records the plans in `options.report`.
    func nearestNeighbors(_ queries: CodeMatrix, k: Int, options: SearchOptions, blocks: [CodeBlock],
                          txn: LMDBTransaction) throws -> [[Neighbor]] {
        try withMultiIndexView(txn, unless: options.multiIndex == .off) { view in
            let n = queries.count
            guard let view, n > 0 else {
                let results = try HammingSearch.nearest(queries: queries, blocks: blocks, bits: bits, k: k, options: options)
                options.report?.record(Array(repeating: .scanned, count: n), substrings: view?.layout.substrings.count ?? 0,
                                       pending: view?.pending.count ?? 0)
                return results
            }
            let codes = SlotCodes(blocks: blocks, codesPerBlock: codesPerChunk, words: wordsPerCode)
            let budget = options.multiIndex == .always ? Double.infinity : options.multiIndexBudget
            var results = [[Neighbor]?](repeating: nil, count: n)
            var plans = [MultiIndexPlan](repeating: .scanned, count: n)
            func answer(_ q: Int) -> (neighbors: [Neighbor]?, plan: MultiIndexPlan) {
                queries.withCode(q) { code in
                    MultiIndexSearch.nearest(to: code, k: k, layout: view.layout, tables: view.tables, codes: codes,
                                             pending: view.pending, budget: budget, kernel: options.kernel)
                }
            }
            // A batch tries its first queries alone: when the tables do not pay for most of
            // them, the rest go straight to the batch scan.
            let trial = min(n, 16)
            for q in 0..<trial { (results[q], plans[q]) = answer(q) }
            let paid = (0..<trial).filter { results[$0] != nil }.count
            if n > trial && paid * 4 >= trial {
                let threads = max(1, min(options.threads, (n - trial) / 8))
                results.withUnsafeMutableBufferPointer { out in
                    plans.withUnsafeMutableBufferPointer { plansOut in
                        parallelFor(iterations: threads) { worker in
                            var q = trial + worker
                            while q < n {
                                (out[q], plansOut[q]) = answer(q)
                                q += threads
                            }
                        }
                    }
                }
            }
            let rest = (0..<n).filter { results[$0] == nil }
            if !rest.isEmpty {
                var batch = try CodeMatrix(bits: bits)
                for q in rest { try batch.append(queries[q]) }
                for (i, found) in try HammingSearch.nearest(queries: batch, blocks: blocks, bits: bits, k: k, options: options).enumerated() {
                    results[rest[i]] = found
                    if plans[rest[i]].method == .multiIndex { plans[rest[i]] = .scanned }
                }
            }
            options.report?.record(plans, substrings: view.layout.substrings.count, pending: view.pending.count)
            return results.map { $0! }
        }
    }

    /// Every slot within `radius` of `query`, through the tables when they pay.
    func neighborsWithin(radius: Int, of query: BinaryCode, options: SearchOptions, blocks: [CodeBlock],
                         txn: LMDBTransaction) throws -> [Neighbor] {
        try withMultiIndexView(txn, unless: options.multiIndex == .off) { view in
            if let view, radius >= 0, radius <= bits {
                let codes = SlotCodes(blocks: blocks, codesPerBlock: codesPerChunk, words: wordsPerCode)
                let budget = options.multiIndex == .always ? Double.infinity : options.multiIndexBudget
                let (found, plan) = query.words.withUnsafeBufferPointer { q in
                    MultiIndexSearch.within(radius: radius, of: q.baseAddress!, layout: view.layout, tables: view.tables,
                                            codes: codes, pending: view.pending, budget: budget, kernel: options.kernel)
                }
                options.report?.record([plan], substrings: view.layout.substrings.count, pending: view.pending.count)
                if let found { return found }
            } else {
                options.report?.record([.scanned], substrings: 0, pending: 0)
            }
            return try HammingSearch.within(radius: radius, of: query, blocks: blocks, bits: bits, options: options)
        }
    }
}
