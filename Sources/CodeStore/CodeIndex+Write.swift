import BinaryCodes
import CLMDB

/// One document's code for `CodeIndex.add`.
public struct IndexEntry: Sendable {
    public var id: String
    public var code: BinaryCode
    /// Opaque bytes kept with the document (TwentyQ's tools write JSON).
    public var metadata: [UInt8]
    /// The document's terms for the lexical stage (nil: none; a replaced document loses its old
    /// terms either way).
    package var terms: TermCounts?

    public init(id: String, code: BinaryCode, metadata: [UInt8] = []) {
        self.init(id: id, code: code, metadata: metadata, terms: nil)
    }

    /// With the lexical stage's terms (the document index's path).
    package init(id: String, code: BinaryCode, metadata: [UInt8] = [], terms: TermCounts?) {
        self.id = id
        self.code = code
        self.metadata = metadata
        self.terms = terms
    }
}

/// What one `add` did, the same for every kind of index.
public struct AddSummary: Equatable, Sendable {
    /// Ids that were new.
    public var added = 0
    /// Ids that existed and got the new code and metadata.
    public var replaced = 0
    /// Ids left as they were because nothing changed (documents whose text has the same content
    /// hash: not re-encoded, not rewritten). Always 0 for codes and vectors, which are written.
    public var unchanged = 0

    public init(added: Int = 0, replaced: Int = 0, unchanged: Int = 0) {
        self.added = added
        self.replaced = replaced
        self.unchanged = unchanged
    }

    /// Adds the counts of `more` (one batch of a run) to `summary`.
    public static func += (summary: inout AddSummary, more: AddSummary) {
        summary.added += more.added
        summary.replaced += more.replaced
        summary.unchanged += more.unchanged
    }
}

extension CodeIndex {
    /// Longest id in bytes: LMDB's default key limit.
    public static let maxIDBytes = 511

    /// Adds `entries` in one transaction: new ids are appended, existing ids replaced in place.
    /// Either the whole batch is committed or nothing is.
    /// - Throws: `IndexError.widthMismatch`, `.duplicateID`, `.invalidID`, `.readOnly`,
    ///   `.diskFull`; nothing is written then.
    /// - Complexity: O(batch) puts plus one rewrite of each touched chunk (<= 128 KiB each).
    @discardableResult
    public func add(_ entries: [IndexEntry]) throws -> AddSummary {
        guard !isReadOnly else { throw IndexError.readOnly(path: path) }
        var seen = Set<String>()
        seen.reserveCapacity(entries.count)
        for entry in entries {
            guard entry.code.bits == bits else {
                throw IndexError.widthMismatch(path: path, indexBits: bits, codeBits: entry.code.bits)
            }
            try Self.validateID(entry.id)
            guard seen.insert(entry.id).inserted else { throw IndexError.duplicateID(entry.id) }
        }
        if entries.isEmpty { return AddSummary() }
        return try guarded("add codes") {
            try env.write { txn in
                var editor = try ChunkEditor(index: self, txn: txn)
                var summary = AddSummary()
                var termUpdates: [(slot: Int, terms: TermCounts?)] = []
                termUpdates.reserveCapacity(entries.count)
                for entry in entries {
                    let idKey = Array(entry.id.utf8)
                    if let raw = try txn.get(ids, key: idKey), let slot = loadLE(raw, as: UInt64.self) {
                        guard slot < UInt64(editor.count) else {
                            throw IndexError.corrupt(path: path, detail: "id '\(entry.id)' points to slot \(slot) past the \(editor.count) codes")
                        }
                        try editor.setCode(slot: Int(slot), words: entry.code.words)
                        try putRecord(txn, slot: Int(slot), Self.encodeRecord(id: idKey, metadata: entry.metadata))
                        termUpdates.append((Int(slot), entry.terms))
                        summary.replaced += 1
                    } else {
                        let slot = editor.count
                        try editor.append(words: entry.code.words)
                        try txn.put(ids, key: idKey, bytes: le(UInt64(slot)))
                        try putRecord(txn, slot: slot, Self.encodeRecord(id: idKey, metadata: entry.metadata))
                        if entry.terms != nil { termUpdates.append((slot, entry.terms)) }
                        summary.added += 1
                    }
                }
                if !termUpdates.isEmpty {
                    var stats = try termStatistics(txn)
                    var changes: [UInt64: Int] = [:]
                    try writeTerms(txn, termUpdates, stats: &stats, frequencyChanges: &changes)
                    try putTermStatistics(txn, stats, frequencyChanges: changes)
                }
                try editor.flush()
                try maintainMultiIndex(txn, changed: editor.changed, count: editor.count)
                return summary
            }
        }
    }

    /// Removes the documents with `ids` in one transaction. The last code moves into each
    /// freed slot, keeping slots dense.
    /// - Throws: `IndexError.unknownID` for an id that is not stored (nothing is removed then),
    ///   `.readOnly`.
    /// - Returns: how many documents were removed (repeated ids count once).
    @discardableResult
    public func remove(ids toRemove: [String]) throws -> Int {
        guard !isReadOnly else { throw IndexError.readOnly(path: path) }
        var unique: [String] = []
        var seen = Set<String>()
        for id in toRemove where seen.insert(id).inserted { unique.append(id) }
        if unique.isEmpty { return 0 }
        return try guarded("remove codes") {
            try env.write { txn in
                var editor = try ChunkEditor(index: self, txn: txn)
                var stats = try termStatistics(txn)
                var changes: [UInt64: Int] = [:]
                for id in unique {
                    let idKey = Array(id.utf8)
                    guard let slot64 = try storedSlot(of: id, txn) else { throw IndexError.unknownID(id) }
                    guard slot64 < UInt64(editor.count) else {
                        throw IndexError.corrupt(path: path, detail: "id '\(id)' points to slot \(slot64) past the \(editor.count) codes")
                    }
                    let slot = Int(slot64), last = editor.count - 1
                    try removeTerms(txn, slot: slot, stats: &stats, frequencyChanges: &changes)
                    if slot != last {
                        try moveTerms(txn, from: last, to: slot)
                        // Move the last code and its record into the freed slot.
                        let moved = try editor.code(slot: last)
                        try editor.setCode(slot: slot, words: moved)
                        // Verified, so that moving a damaged record does not give it a fresh checksum.
                        guard let record = try verifiedRecord(txn, slot: last) else {
                            throw IndexError.corrupt(path: path, detail: "slot \(last) has no record")
                        }
                        let recordBytes = Array(record)
                        let movedID = Self.decodeRecordID(recordBytes)
                        try putRecord(txn, slot: slot, recordBytes)
                        try txn.put(ids, key: movedID, bytes: le(UInt64(slot)))
                    }
                    try deleteRecord(txn, slot: last)
                    try txn.delete(ids, key: idKey)
                    editor.removeLast()
                }
                try putTermStatistics(txn, stats, frequencyChanges: changes)
                try editor.flush()
                try maintainMultiIndex(txn, changed: editor.changed, count: editor.count)
                return unique.count
            }
        }
    }

    /// Checks an id before anything is written: 1 to `maxIDBytes` bytes of UTF-8.
    /// - Throws: `IndexError.invalidID` saying what is wrong.
    public static func validateID(_ id: String) throws {
        let bytes = id.utf8.count
        if bytes == 0 { throw IndexError.invalidID(id, reason: "ids must not be empty") }
        if bytes > maxIDBytes {
            throw IndexError.invalidID(id, reason: "\(bytes) bytes long; ids may have at most \(maxIDBytes) bytes of UTF-8")
        }
    }

    static func encodeRecord(id: [UInt8], metadata: [UInt8]) -> [UInt8] {
        le(UInt32(id.count)) + id + metadata
    }

    static func decodeRecordID(_ record: some Collection<UInt8>) -> [UInt8] {
        let bytes = Array(record)
        guard bytes.count >= 4 else { return [] }
        let n = Int(UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
        return Array(bytes[4 ..< min(bytes.count, 4 + n)])
    }
}

/// Edits the `codes` table inside one write transaction: chunks are read once, changed in
/// memory and written back once by `flush`, with the new `count` in `meta`.
struct ChunkEditor {
    let index: CodeIndex
    let txn: LMDBTransaction
    let originalCount: Int
    private(set) var count: Int
    private var chunks: [Int: [UInt64]] = [:]
    private var dirty = Set<Int>()
    /// Slots given a code by this transaction (appended, replaced or moved into).
    private(set) var changed = Set<Int>()

    init(index: CodeIndex, txn: LMDBTransaction) throws {
        self.index = index
        self.txn = txn
        self.originalCount = try index.storedCount(txn)
        self.count = originalCount
    }

    private var wordsPerCode: Int { index.wordsPerCode }
    private var perChunk: Int { index.codesPerChunk }

    /// Loads chunk `c` (as it stands in this transaction) into memory.
    private mutating func load(_ c: Int) throws {
        if chunks[c] != nil { return }
        if let raw = try txn.get(index.codes, key: be(UInt32(c))) {
            guard raw.count % (8 * wordsPerCode) == 0 else {
                throw IndexError.corrupt(path: index.path, detail: "chunk \(c) holds \(raw.count) bytes, not whole codes")
            }
            // Rewriting a damaged chunk would give it a fresh checksum: refuse instead.
            if try index.sumMatches(txn, key: CodeIndex.chunkSumKey(c), raw) == false {
                throw IndexError.corrupt(path: index.path, detail: "code chunk \(c) does not match its checksum")
            }
            var words = [UInt64](repeating: 0, count: raw.count / 8)
            words.withUnsafeMutableBytes { $0.copyMemory(from: raw) }
            chunks[c] = words
        } else {
            chunks[c] = []
        }
    }

    mutating func code(slot: Int) throws -> [UInt64] {
        let c = slot / perChunk, offset = (slot % perChunk) * wordsPerCode
        try load(c)
        guard let words = chunks[c], offset + wordsPerCode <= words.count else {
            throw IndexError.corrupt(path: index.path, detail: "slot \(slot) is missing from chunk \(c)")
        }
        return Array(words[offset ..< offset + wordsPerCode])
    }

    mutating func setCode(slot: Int, words new: [UInt64]) throws {
        let c = slot / perChunk, offset = (slot % perChunk) * wordsPerCode
        try load(c)
        guard chunks[c]!.count >= offset + wordsPerCode else {
            throw IndexError.corrupt(path: index.path, detail: "slot \(slot) is missing from chunk \(c)")
        }
        chunks[c]!.replaceSubrange(offset ..< offset + wordsPerCode, with: new)
        dirty.insert(c)
        changed.insert(slot)
    }

    mutating func append(words new: [UInt64]) throws {
        let c = count / perChunk, offset = (count % perChunk) * wordsPerCode
        try load(c)
        if chunks[c]!.count > offset { chunks[c]!.removeSubrange(offset...) } // stale tail, never expected
        chunks[c]!.append(contentsOf: new)
        dirty.insert(c)
        changed.insert(count)
        count += 1
    }

    mutating func removeLast() {
        count -= 1
        dirty.insert(count / perChunk) // the chunk that held the old last slot shrinks
    }

    /// Writes every changed chunk, trimmed to the new count (deleting emptied chunks), and
    /// the new count.
    mutating func flush() throws {
        for c in dirty.sorted() {
            try load(c)
            let codesInChunk = max(0, min(perChunk, count - c * perChunk))
            if codesInChunk == 0 {
                try txn.delete(index.codes, key: be(UInt32(c)))
                if let sums = index.sums { try txn.delete(sums, key: CodeIndex.chunkSumKey(c)) }
                continue
            }
            let words = chunks[c]!
            try words.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[0 ..< codesInChunk * wordsPerCode * 8])
                try txn.put(index.codes, key: be(UInt32(c)), value: bytes)
                try index.putSum(txn, key: CodeIndex.chunkSumKey(c), CRC32.checksum(bytes))
            }
        }
        if count != originalCount {
            try txn.put(index.meta, key: Array("count".utf8), bytes: le(UInt64(count)))
        }
    }
}
