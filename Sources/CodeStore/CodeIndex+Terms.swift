import BinaryCodes
import CLMDB

/// The lexical stage's tables (format version 4), kept in step with the codes by the same
/// transactions:
/// - `terms`: slot (UInt64 big-endian) -> the document's `TermCounts` (stored form);
/// - `postings`: term hash (UInt64 big-endian) -> slots holding the term, as sorted fixed-size
///   duplicates (`MDB_DUPSORT | MDB_DUPFIXED`, UInt64 big-endian, so byte order = slot order);
///   the number of duplicates is the term's document frequency;
/// - `meta`: `terms_docs` (documents with terms, UInt64 LE) and `terms_length` (their summed
///   lengths, UInt64 LE), for BM25's average document length.
/// A slot that moves (a removal fills its hole with the last code) takes its terms and
/// postings along. Only documents added with `IndexEntry.terms` have terms; code-only and
/// vector indexes keep both tables empty.
extension CodeIndex {
    static let termTableFlags = UInt32(MDB_CREATE)
    static let postingsTableFlags = UInt32(MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED)

    /// Collection statistics of the lexical stage.
    public struct TermStatistics: Equatable, Sendable {
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
            guard let v = loadLE(raw, as: UInt64.self) else {
                throw IndexError.corrupt(path: path, detail: "metadata '\(key)' is malformed")
            }
            return Int(clamping: v)
        }
        return TermStatistics(documents: try read("terms_docs"), totalLength: try read("terms_length"))
    }

    func putTermStatistics(_ txn: LMDBTransaction, _ stats: TermStatistics) throws {
        try txn.put(meta, key: Array("terms_docs".utf8), bytes: le(UInt64(stats.documents)))
        try txn.put(meta, key: Array("terms_length".utf8), bytes: le(UInt64(stats.totalLength)))
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
    func writeTerms(_ txn: LMDBTransaction, _ updates: [(slot: Int, terms: TermCounts?)], stats: inout TermStatistics) throws {
        guard let termsTable, let postings else { return }
        var pending: [(UInt64, UInt64)] = []
        for (slot, terms) in updates {
            try removeTerms(txn, slot: slot, stats: &stats)
            guard let terms else { continue }
            try txn.put(termsTable, key: be(UInt64(slot)), bytes: terms.encoded())
            for h in terms.hashes { pending.append((h, UInt64(slot))) }
            stats.documents += 1
            stats.totalLength += terms.length
        }
        pending.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        for (h, slot) in pending { try txn.putDuplicate(postings, key: be(h), bytes: be(slot)) }
    }

    /// Deletes the terms of `slot` and its postings (nothing when it has none).
    func removeTerms(_ txn: LMDBTransaction, slot: Int, stats: inout TermStatistics) throws {
        guard let termsTable, let postings, let old = try storedTerms(txn, slot: slot) else { return }
        for h in old.hashes { try txn.deleteDuplicate(postings, key: be(h), bytes: be(UInt64(slot))) }
        try txn.delete(termsTable, key: be(UInt64(slot)))
        stats.documents -= 1
        stats.totalLength -= old.length
    }

    /// Moves the terms and postings of slot `from` to the empty slot `to`.
    func moveTerms(_ txn: LMDBTransaction, from: Int, to: Int) throws {
        guard let termsTable, let postings, let terms = try storedTerms(txn, slot: from) else { return }
        for h in terms.hashes {
            try txn.deleteDuplicate(postings, key: be(h), bytes: be(UInt64(from)))
            try txn.putDuplicate(postings, key: be(h), bytes: be(UInt64(to)))
        }
        try txn.put(termsTable, key: be(UInt64(to)), bytes: terms.encoded())
        try txn.delete(termsTable, key: be(UInt64(from)))
    }
}

/// Reads the lexical stage inside one read transaction (the one a search's codes come from,
/// so slots agree).
public struct TermReader {
    let index: CodeIndex
    let txn: LMDBTransaction
    /// Collection statistics.
    public let statistics: CodeIndex.TermStatistics

    init(index: CodeIndex, txn: LMDBTransaction) throws {
        self.index = index
        self.txn = txn
        statistics = try index.termStatistics(txn)
    }

    /// Whether the index keeps terms at all (format 4 and at least one document with terms).
    public var hasTerms: Bool { index.termsTable != nil && statistics.documents > 0 }

    /// Documents holding the term.
    public func documentFrequency(_ hash: UInt64) throws -> Int {
        guard let postings = index.postings else { return 0 }
        return try txn.forEachDuplicate(postings, key: be(hash), countOnly: true)
    }

    /// The slots holding the term, ascending.
    public func slots(_ hash: UInt64) throws -> [Int] {
        guard let postings = index.postings else { return [] }
        var out: [Int] = []
        try txn.forEachDuplicate(postings, key: be(hash)) { page in
            for i in 0 ..< page.count / 8 {
                out.append(Int(UInt64(bigEndian: page.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
            return true
        }
        return out
    }

    /// The terms of the document at `slot`, nil when it has none.
    public func terms(slot: Int) throws -> TermCounts? { try index.storedTerms(txn, slot: slot) }
}

extension CodeIndex {
    /// The lexical stage's collection statistics (committed state).
    public func termStatistics() throws -> TermStatistics {
        try guarded("read the index") { try env.read { try termStatistics($0) } }
    }

    /// Calls `body` with a reader of the term tables inside one read transaction.
    /// - Lifetime: the reader is valid only during the execution of the closure.
    public func withTermReader<R>(_ body: (TermReader) throws -> R) throws -> R {
        try guarded("read the index") { try env.read { try body(try TermReader(index: self, txn: $0)) } }
    }
}
