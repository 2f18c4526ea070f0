import BinaryCodes
import CLMDB
import Foundation

// The tables are written and read in memory order, which the schema defines as little-endian.
#if _endian(big)
#error("TwentyQ's index format assumes a little-endian CPU")
#endif

// MARK: - Schema of the `mih` table
//
// Format version 2 adds a named database `mih`; format version 3 stores the tables in levels:
// - `settings`: JSON of `MultiIndexSettings`.
// - `layout` (present when tables exist): UInt32 LE record version (2), bits, level count L,
//   then per level: UInt64 LE first slot, UInt64 LE entry count, UInt32 LE m, m x UInt32 LE
//   substring lengths (substring t starts where t - 1 ends). Level 0 starts at slot 0 and each
//   level starts where the one before ends. (Record version 1, written by format 2: UInt32 1,
//   bits, m, UInt64 count, m lengths: one level over slots 0 ..< count, tables keyed
//   `table` + [t]; still read, rewritten by the next rebuild.)
// - `table` + [level, t] (one byte each): table t of that level, as
//   `MultiIndexLayout.writeTable` lays it out: UInt32 LE 2^length + 1 offsets, entry-count
//   UInt32 LE slots, 4 zero bytes when that count of UInt32s is odd, then the entries' codes
//   (words LE, as in `codes`) in the same order: the entries whose substring t has value v are
//   `offsets[v] ..< offsets[v + 1]`, ascending by slot.
// - `pending`: ascending UInt32 LE slots inside the levels whose code is not in the tables
//   as it is now (replaced, or moved by a removal, since its level was built).
//
// Every write transaction keeps them in step with its codes: slots it changes inside the
// levels join `pending` (past `maxPending` the same transaction rebuilds every table as one
// level); codes appended past the last level stay unindexed until there are more than
// `maxUnindexed`, when they get a level of their own; a level then merges with the one
// before it while it holds more than half as many codes, so levels shrink at least
// geometrically (about log2(N / maxUnindexed) of them) and an appended code is written into
// about that many tables over its life instead of once per full rebuild.

/// One level as the layout record lists it.
struct StoredLevel: Equatable {
    var slots: Range<Int>
    var lengths: [Int]
}

extension CodeIndex {
    static let layoutKey = Array("layout".utf8)
    static let pendingKey = Array("pending".utf8)
    static let settingsKey = Array("settings".utf8)
    static let tablePrefix = Array("table".utf8)
    static func tableKey(level: Int, _ t: Int) -> [UInt8] { tablePrefix + [UInt8(level), UInt8(t)] }
    /// Keys of layout record version 1 (one level).
    static func legacyTableKey(_ t: Int) -> [UInt8] { tablePrefix + [UInt8(t)] }

    /// Pending codes that trigger a full rebuild: 1/64 of the index, at least `floor`. A search
    /// compares each pending code directly (a random read), so this bounds that extra work to
    /// 1/64 of a scan.
    public static func maxPending(count: Int, floor: Int = defaultLevelFloor) -> Int { max(floor, count / 64) }

    /// Unindexed codes that get a level of their own: 1/64 of the index, at least `floor`. A
    /// search compares them in one sequential pass, 1/64 of a scan at most.
    public static func maxUnindexed(count: Int, floor: Int = defaultLevelFloor) -> Int { max(floor, count / 64) }

    /// The floor of `maxPending` and `maxUnindexed`: comparing 1,024 codes directly costs
    /// about a microsecond.
    public static let defaultLevelFloor = 1024

    // MARK: Settings and status

    func readSettings(_ txn: LMDBTransaction) throws -> MultiIndexSettings {
        guard let mih, let raw = try txn.get(mih, key: Self.settingsKey) else { return MultiIndexSettings.defaults(bits: bits) }
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
                                              levels: [], unindexed: 0, maxUnindexed: Self.maxUnindexed(count: count, floor: levelFloor),
                                              pending: 0, maxPending: Self.maxPending(count: count, floor: levelFloor), tableBytes: 0)
                try withMultiIndexView(txn) { view in
                    guard let view, let first = view.levels.first else { return }
                    status.built = true
                    status.substrings = first.layout.substrings.count
                    status.substringBits = first.layout.substrings.map(\.length)
                    status.builtCount = view.indexedEnd
                    status.levels = view.levels.map(\.slots.count)
                    status.unindexed = max(0, count - view.indexedEnd)
                    status.pending = view.pending.count
                    status.tableBytes = view.levels.reduce(0) { sum, level in
                        sum + level.layout.substrings.indices.reduce(0) {
                            $0 + level.layout.tableByteCount($1, entries: level.slots.count, words: wordsPerCode)
                        }
                    }
                }
                return status
            }
        }
    }

    // MARK: Reading

    /// The levels of the layout record, with the record's version; nil when there are no
    /// tables.
    /// - Throws: `IndexError.damagedTables` when the record is inconsistent.
    func readLevels(_ txn: LMDBTransaction) throws -> (version: Int, levels: [StoredLevel])? {
        guard let mih, let raw = try txn.get(mih, key: Self.layoutKey) else { return nil }
        var at = 0
        func field<T: FixedWidthInteger>(_ type: T.Type) throws -> Int {
            let size = MemoryLayout<T>.size
            guard at + size <= raw.count, let value = loadLE(UnsafeRawBufferPointer(rebasing: raw[at ..< at + size]), as: T.self),
                  let int = Int(exactly: value) else { throw tablesCorrupt("the layout record is truncated") }
            at += size
            return int
        }
        func lengths(_ m: Int) throws -> [Int] {
            guard let layout = MultiIndexLayout(bits: bits, exactly: m),
                  try layout.substrings.allSatisfy({ try field(UInt32.self) == $0.length }) else {
                throw tablesCorrupt("the layout does not fit \(bits)-bit codes")
            }
            return layout.substrings.map(\.length)
        }
        let version = try field(UInt32.self)
        guard try field(UInt32.self) == bits else { throw tablesCorrupt("the layout does not fit \(bits)-bit codes") }
        var levels: [StoredLevel] = []
        switch version {
        case 1:
            let m = try field(UInt32.self)
            let count = try field(UInt64.self)
            levels = [StoredLevel(slots: 0 ..< count, lengths: try lengths(m))]
        case 2:
            let levelCount = try field(UInt32.self)
            guard levelCount >= 1 && levelCount <= 255 else { throw tablesCorrupt("the layout lists \(levelCount) levels") }
            for _ in 0 ..< levelCount {
                let first = try field(UInt64.self), count = try field(UInt64.self), m = try field(UInt32.self)
                guard first == (levels.last?.slots.upperBound ?? 0), count <= Int(UInt32.max) - first else {
                    throw tablesCorrupt("the levels do not cover consecutive slots")
                }
                levels.append(StoredLevel(slots: first ..< first + count, lengths: try lengths(m)))
            }
        default:
            throw tablesCorrupt("unknown layout record")
        }
        guard at == raw.count else { throw tablesCorrupt("the layout record has trailing bytes") }
        return (version, levels)
    }

    func tablesCorrupt(_ detail: String) -> IndexError {
        .damagedTables(path: path, detail: detail)
    }

    /// Calls `body` with the tables as `txn` sees them, or nil when there are none or `skip`
    /// (then the tables are not read at all, so damaged ones cannot stop a scan).
    /// - Throws: `IndexError.damagedTables` when the stored layout or a table's size is inconsistent.
    func withMultiIndexView<R>(_ txn: LMDBTransaction, unless skip: Bool = false, _ body: (MultiIndexView?) throws -> R) throws -> R {
        guard !skip, let mih, let (version, stored) = try readLevels(txn) else { return try body(nil) }
        var copies = AlignedCopies()
        defer { copies.free() }
        var levels: [MultiIndexLevel] = []
        for (l, level) in stored.enumerated() {
            let layout = MultiIndexLayout(bits: bits, exactly: level.lengths.count)!
            var tables: [MultiIndexTable] = []
            for t in layout.substrings.indices {
                let key = version == 1 ? Self.legacyTableKey(t) : Self.tableKey(level: l, t)
                guard let value = try txn.get(mih, key: key),
                      value.count == layout.tableByteCount(t, entries: level.slots.count, words: wordsPerCode) else {
                    throw tablesCorrupt("table \(t) of level \(l) is missing or has the wrong size")
                }
                tables.append(MultiIndexTable(layout: layout, table: t, entries: level.slots.count, words: wordsPerCode,
                                              bytes: copies.aligned(value)))
            }
            levels.append(MultiIndexLevel(layout: layout, slots: level.slots, tables: tables))
        }
        let pendingRaw = try txn.get(mih, key: Self.pendingKey)
        guard (pendingRaw?.count ?? 0) % 4 == 0 else { throw tablesCorrupt("the pending list has a partial entry") }
        let pending = pendingRaw.flatMap { raw -> UnsafeBufferPointer<UInt32>? in
            raw.isEmpty ? nil : UnsafeBufferPointer(start: copies.aligned(raw).assumingMemoryBound(to: UInt32.self), count: raw.count / 4)
        } ?? UnsafeBufferPointer(start: nil, count: 0)
        return try body(MultiIndexView(levels: levels, pending: pending))
    }

    // MARK: Writing

    /// Brings the tables in step with this transaction's changes: `changed` slots (appended,
    /// replaced, or given another code by a removal) inside the levels join the pending list,
    /// slots at or past `count` leave it, levels wholly past `count` go; appended codes get a
    /// level when there are enough (merging the small newest levels); past `maxPending` (or
    /// when the tables should appear or go) every table is rebuilt from the codes as this
    /// transaction sees them.
    func maintainMultiIndex(_ txn: LMDBTransaction, changed: Set<Int>, count: Int) throws {
        guard let mih else { return }
        let settings = try readSettings(txn)
        let wanted = settings.enabled && count >= max(1, settings.minimumCount)
        let stored = try readLevels(txn)
        guard wanted, let stored, stored.version == 2 else {
            // Appear, go, or rewrite a version 1 layout as levels.
            if wanted || stored != nil { try rebuildOrDropTables(txn, count: count, settings: settings) }
            return
        }
        var levels = stored.levels
        let before = levels
        while let last = levels.last, last.slots.lowerBound >= count {
            for t in last.lengths.indices { try txn.delete(mih, key: Self.tableKey(level: levels.count - 1, t)) }
            levels.removeLast()
        }
        guard let last = levels.last else { return try rebuildOrDropTables(txn, count: count, settings: settings) }
        let end = last.slots.upperBound
        // The stored list (ascending) merged with this transaction's slots inside the levels:
        // one linear pass, since the list can hold N / 64 slots and every write rewrites it.
        let limit = min(end, count)
        let added = changed.filter { $0 < limit }.sorted()
        var pending: [Int] = []
        let previous = try txn.get(mih, key: Self.pendingKey)
        pending.reserveCapacity((previous?.count ?? 0) / 4 + added.count)
        var next = added.startIndex
        func take(upTo slot: Int) {
            while next < added.endIndex && added[next] < slot { pending.append(added[next]); next += 1 }
            if next < added.endIndex && added[next] == slot { next += 1 }
        }
        if let previous {
            for i in 0 ..< previous.count / 4 {
                let slot = Int(UInt32(littleEndian: previous.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                guard slot < limit else { break }
                take(upTo: slot)
                pending.append(slot)
            }
        }
        take(upTo: Int.max)
        // Entries of slots at or past `count` are dead weight in the last level until a rebuild.
        if pending.count + max(0, end - count) > Self.maxPending(count: count, floor: levelFloor) {
            return try rebuildOrDropTables(txn, count: count, settings: settings)
        }
        if count - end > Self.maxUnindexed(count: count, floor: levelFloor) {
            // The unindexed codes become a level; it absorbs the levels before it while they
            // hold fewer than twice its codes, so it is built once, over their slots together.
            var first = end
            while let previous = levels.last, 2 * (count - first) > previous.slots.count {
                for t in previous.lengths.indices { try txn.delete(mih, key: Self.tableKey(level: levels.count - 1, t)) }
                levels.removeLast()
                first = previous.slots.lowerBound
            }
            levels.append(try writeLevel(txn, number: levels.count, slots: first ..< count, settings: settings))
            pending.removeAll { $0 >= first }
        }
        if levels != before { try writeLayout(txn, levels) }
        if !added.isEmpty || pending.count != (previous?.count ?? 0) / 4 { try writePending(txn, mih, pending) }
    }

    private func writePending(_ txn: LMDBTransaction, _ mih: LMDBDatabase, _ slots: [Int]) throws {
        if slots.isEmpty {
            try txn.delete(mih, key: Self.pendingKey)
            return
        }
        let words = slots.map { UInt32($0).littleEndian }
        try words.withUnsafeBytes { try txn.put(mih, key: Self.pendingKey, value: $0) }
    }

    private func writeLayout(_ txn: LMDBTransaction, _ levels: [StoredLevel]) throws {
        guard let mih else { return }
        var record = le(UInt32(2)) + le(UInt32(bits)) + le(UInt32(levels.count))
        for level in levels {
            record += le(UInt64(level.slots.lowerBound)) + le(UInt64(level.slots.count)) + le(UInt32(level.lengths.count))
            for length in level.lengths { record += le(UInt32(length)) }
        }
        try txn.put(mih, key: Self.layoutKey, bytes: record)
    }

    /// Builds the tables of level `number` over `slots` from the codes `txn` sees, each
    /// written straight into the map (a table is tens of megabytes at a million codes).
    private func writeLevel(_ txn: LMDBTransaction, number: Int, slots: Range<Int>, settings: MultiIndexSettings) throws -> StoredLevel {
        guard let mih else { throw IndexError.corrupt(path: path, detail: "the index has no 'mih' table") }
        let layout = MultiIndexLayout(bits: bits, count: slots.count, substrings: settings.substrings)
        try codeBlocks(txn) { codes in
            for t in layout.substrings.indices {
                let size = layout.tableByteCount(t, entries: slots.count, words: wordsPerCode)
                try txn.put(mih, key: Self.tableKey(level: number, t), reserving: size) { out in
                    if Int(bitPattern: out.baseAddress!) % 8 == 0 {
                        layout.writeTable(t, codes: codes, slots: slots, into: out.baseAddress!)
                    } else {
                        // A small table LMDB keeps inside a page, at an odd address.
                        let aligned = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
                        defer { aligned.deallocate() }
                        layout.writeTable(t, codes: codes, slots: slots, into: aligned)
                        out.baseAddress!.copyMemory(from: aligned, byteCount: size)
                    }
                }
            }
        }
        return StoredLevel(slots: slots, lengths: layout.substrings.map(\.length))
    }

    /// Drops the tables, and builds them anew as one level over the codes `txn` sees when
    /// the settings want tables for `count` codes.
    func rebuildOrDropTables(_ txn: LMDBTransaction, count: Int, settings: MultiIndexSettings) throws {
        guard let mih else { return }
        // Every table of every level and layout version, found by key so that a damaged
        // layout record cannot leave tables behind.
        var tableKeys: [[UInt8]] = []
        try txn.forEach(mih) { key, _ in
            if key.starts(with: Self.tablePrefix) { tableKeys.append(Array(key)) }
            return true
        }
        for key in tableKeys { try txn.delete(mih, key: key) }
        try txn.delete(mih, key: Self.layoutKey)
        try txn.delete(mih, key: Self.pendingKey)
        guard settings.enabled && count >= max(1, settings.minimumCount) else { return }
        try writeLayout(txn, [try writeLevel(txn, number: 0, slots: 0 ..< count, settings: settings)])
    }
}
