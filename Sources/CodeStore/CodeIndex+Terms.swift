import BinaryCodes
import CLMDB

/// The lexical stage's tables (format version 4), kept in step with the codes by the same
/// transactions:
/// - `terms`: slot (UInt64 big-endian) -> the document's `TermCounts` (stored form);
/// - `postings`: (partition, term hash) as UInt32 + UInt64 big-endian -> the partition's slots
///   holding the term, as sorted fixed-size duplicates (`MDB_DUPSORT | MDB_DUPFIXED`): each the
///   slot's offset in its partition, UInt16 big-endian, so byte order = slot order. A partition is `postingsPartition` consecutive
///   slots; keys sort by partition first, so a batch of appended documents rewrites only the
///   pages of the newest partition instead of pages all over the tree (on 20 Newsgroups one
///   term-first tree wrote 243 MB for a 129 MB file). A term's document frequency is the sum of
///   its duplicate counts over the partitions;
/// - `termdf` (version 5): term hash (UInt64 big-endian) -> the number of documents holding it
///   (UInt32 LE; absent at 0), what the postings' counts sum to, kept so that a term's IDF is
///   one read: at 1M documents the postings hold 245 partitions, and summing their counts for
///   a typed query and its feedback terms cost about 6 ms of a 20 ms query;
/// - `meta`: `terms_docs` (documents with terms, UInt64 LE) and `terms_length` (their summed
///   lengths, UInt64 LE), for BM25's average document length.
/// A slot that moves (a removal fills its hole with the last code) takes its terms and
/// postings along. Only documents added with `IndexEntry.terms` have terms; code-only and
/// vector indexes keep both tables empty.
extension CodeIndex {
    /// Slots per postings partition.
    static let postingsPartition = 4096

    /// The postings key of `hash` for a document at `slot`.
    @inline(__always) static func postingsKey(_ hash: UInt64, slot: Int) -> (UInt32, UInt64) {
        (UInt32(slot / postingsPartition), hash)
    }

    /// The postings value of `slot`: its offset in its partition.
    @inline(__always) static func postingsValue(_ slot: Int) -> UInt16 { UInt16(slot % postingsPartition) }

    static let termTableFlags = UInt32(MDB_CREATE)
    static let postingsTableFlags = UInt32(MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED)

    /// Collection statistics of the lexical stage.
    package struct TermStatistics: Equatable, Sendable {
        /// Documents that have terms.
        public var documents: Int
        /// Their summed lengths in terms.
        public var totalLength: Int
        /// Mean length (1 when empty, so BM25 never divides by zero).
        public var averageLength: Double { documents > 0 ? max(1, Double(totalLength) / Double(documents)) : 1 }
    }

    func termStatistics(_ txn: LMDBTransaction) throws -> TermStatistics {
        func read(_ key: String) throws -> Int {
            guard let raw = try txn.get(meta, key: Array(key.utf8)) else { return 0 }
            // Bounded far above any real index, so sums and counts built on them cannot overflow.
            guard let v = loadLE(raw, as: UInt64.self), v < 1 << 56 else {
                throw IndexError.corrupt(path: path, detail: "metadata '\(key)' is malformed")
            }
            return Int(v)
        }
        return TermStatistics(documents: try read("terms_docs"), totalLength: try read("terms_length"))
    }

    /// Stores the collection statistics and applies the document-frequency changes of the
    /// transaction's writes (term hash -> documents gained minus lost).
    func putTermStatistics(_ txn: LMDBTransaction, _ stats: TermStatistics, frequencyChanges: [UInt64: Int]) throws {
        try txn.put(meta, key: Array("terms_docs".utf8), bytes: le(UInt64(stats.documents)))
        try txn.put(meta, key: Array("terms_length".utf8), bytes: le(UInt64(stats.totalLength)))
        guard let frequencies else { return }
        do {
            try txn.addToCounters(frequencies, frequencyChanges.map { (key: $0.key, change: $0.value) }.sorted { $0.key < $1.key })
        } catch let overflow as LMDBTransaction.CounterOverflow {
            throw IndexError.corrupt(path: path, detail: overflow.value < 0 ? "a document frequency entry is malformed (run `twentyq check`)"
                                     : "the document frequency of a term would become \(overflow.value) (run `twentyq check`)")
        }
    }

    /// Fills an empty `termdf` from the postings (upgrading a version 4 index).
    static func countFrequencies(_ txn: LMDBTransaction, postings: LMDBDatabase, into frequencies: LMDBDatabase) throws {
        var df: [UInt64: Int] = [:]
        try txn.forEachKeyCount(postings) { key, count in
            if key.count == 12 { df[UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 4, as: UInt64.self)), default: 0] += count }
            return true
        }
        for (hash, n) in df.sorted(by: { $0.key < $1.key }) { try txn.put(frequencies, key: be(hash), bytes: le(UInt32(clamping: n))) }
    }

    /// The terms stored at `slot`, or nil.
    func storedTerms(_ txn: LMDBTransaction, slot: Int) throws -> TermCounts? {
        guard let termsTable, let raw = try txn.get(termsTable, key: be(UInt64(slot))) else { return nil }
        guard let terms = TermCounts(encoded: raw) else {
            throw IndexError.corrupt(path: path, detail: "the term record of slot \(slot) is malformed")
        }
        return terms
    }

    /// Writes the terms of the documents in `slots` (nil: the document has none) replacing what
    /// those slots held; postings go in sorted by term, then slot.
    func writeTerms(_ txn: LMDBTransaction, _ updates: [(slot: Int, terms: TermCounts?)], stats: inout TermStatistics,
                    frequencyChanges: inout [UInt64: Int]) throws {
        guard let termsTable, let postings else { return }
        var pending: [(UInt64, UInt64)] = []
        for (slot, terms) in updates {
            try removeTerms(txn, slot: slot, stats: &stats, frequencyChanges: &frequencyChanges)
            guard let terms else { continue }
            try txn.put(termsTable, key: be(UInt64(slot)), bytes: terms.encoded())
            for h in terms.hashes { pending.append((h, UInt64(slot))); frequencyChanges[h, default: 0] += 1 }
            stats.documents += 1
            stats.totalLength += terms.length
        }
        // Key order: partition, then term; then slot.
        pending.sort { a, b in
            let pa = Int(a.1) / Self.postingsPartition, pb = Int(b.1) / Self.postingsPartition
            return pa != pb ? pa < pb : a.0 != b.0 ? a.0 < b.0 : a.1 < b.1
        }
        var next = pending.makeIterator()
        try txn.addDuplicates(postings) {
            next.next().map { h, slot in (Self.postingsKey(h, slot: Int(slot)), Self.postingsValue(Int(slot))) }
        }
    }

    /// Deletes the terms of `slot` and its postings (nothing when it has none).
    func removeTerms(_ txn: LMDBTransaction, slot: Int, stats: inout TermStatistics, frequencyChanges: inout [UInt64: Int]) throws {
        guard let termsTable, let postings, let old = try storedTerms(txn, slot: slot) else { return }
        for h in old.hashes {
            try txn.duplicate(postings, key: Self.postingsKey(h, slot: slot), value: Self.postingsValue(slot), delete: true)
            frequencyChanges[h, default: 0] -= 1
        }
        try txn.delete(termsTable, key: be(UInt64(slot)))
        stats.documents -= 1
        stats.totalLength -= old.length
    }

    /// Moves the terms and postings of slot `from` to the empty slot `to`.
    func moveTerms(_ txn: LMDBTransaction, from: Int, to: Int) throws {
        guard let termsTable, let postings, let terms = try storedTerms(txn, slot: from) else { return }
        for h in terms.hashes {
            try txn.duplicate(postings, key: Self.postingsKey(h, slot: from), value: Self.postingsValue(from), delete: true)
            try txn.duplicate(postings, key: Self.postingsKey(h, slot: to), value: Self.postingsValue(to), delete: false)
        }
        try txn.put(termsTable, key: be(UInt64(to)), bytes: terms.encoded())
        try txn.delete(termsTable, key: be(UInt64(from)))
    }
}

/// Reads the lexical stage inside one read transaction (the one a search's codes come from,
/// so slots agree).
package struct TermReader {
    let index: CodeIndex
    let txn: LMDBTransaction
    /// Collection statistics.
    public let statistics: CodeIndex.TermStatistics

    /// Postings partitions in use.
    let partitions: Int

    init(index: CodeIndex, txn: LMDBTransaction) throws {
        self.index = index
        self.txn = txn
        statistics = try index.termStatistics(txn)
        partitions = (try index.storedCount(txn) + CodeIndex.postingsPartition - 1) / CodeIndex.postingsPartition
    }

    /// The postings key bytes of `hash` in partition `p`.
    private func key(_ hash: UInt64, partition p: Int) -> [UInt8] { be(UInt32(p)) + be(hash) }

    /// Whether the index keeps terms at all (format 4 and at least one document with terms).
    public var hasTerms: Bool { index.termsTable != nil && statistics.documents > 0 }

    /// Documents holding the term.
    public func documentFrequency(_ hash: UInt64) throws -> Int {
        try documentFrequencies([hash])[0]
    }

    /// Documents holding each term, in the order given: one read each from `termdf`.
    public func documentFrequencies(_ hashes: [UInt64]) throws -> [Int] {
        if let frequencies = index.frequencies {
            return try hashes.map { h in try txn.get(frequencies, key: be(h)).flatMap { loadLE($0, as: UInt32.self) }.map(Int.init) ?? 0 }
        }
        // A format 4 index opened read-only: the counts summed over the postings partitions.
        guard let postings = index.postings else { return hashes.map { _ in 0 } }
        return try hashes.map { h in
            try (0..<partitions).reduce(0) { $0 + (try txn.forEachDuplicate(postings, key: key(h, partition: $1), countOnly: true)) }
        }
    }

    /// The slots holding the term, ascending.
    public func slots(_ hash: UInt64) throws -> [Int] {
        guard let postings = index.postings else { return [] }
        var out: [Int] = []
        for p in 0..<partitions {
            try txn.forEachDuplicate(postings, key: key(hash, partition: p)) { page in
                for i in 0 ..< page.count / 2 {
                    out.append(p * CodeIndex.postingsPartition + Int(UInt16(bigEndian: page.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                }
                return true
            }
        }
        return out
    }

    /// The terms of the document at `slot`, nil when it has none.
    public func terms(slot: Int) throws -> TermCounts? { try index.storedTerms(txn, slot: slot) }

    /// The stored term record of a slot, borrowed from the map: valid until the read
    /// transaction ends, never after.
    func termRecord(slot: Int) throws -> UnsafeRawBufferPointer? {
        guard let termsTable = index.termsTable else { return nil }
        return try txn.get(termsTable, key: be(UInt64(slot)))
    }

    /// The stored term records of ascending `slots` (nil where none), through one cursor;
    /// borrowed as `termRecord(slot:)`'s.
    func termRecords(ascendingSlots slots: [Int]) throws -> [UnsafeRawBufferPointer?] {
        guard let termsTable = index.termsTable else { return slots.map { _ in nil } }
        return try txn.getSorted(termsTable, keys: slots.map { UInt64($0) })
    }
}

extension CodeIndex {
    /// The lexical stage's collection statistics (committed state).
    package func termStatistics() throws -> TermStatistics {
        try guarded("read the index") { try env.read { try termStatistics($0) } }
    }

    /// Calls `body` with a reader of the term tables inside one read transaction.
    /// - Lifetime: the reader is valid only during the execution of the closure.
    package func withTermReader<R>(_ body: (TermReader) throws -> R) throws -> R {
        try guarded("read the index") { try env.read { try body(try TermReader(index: self, txn: $0)) } }
    }
}
