import BinaryCodes
import CLMDB
import Foundation

/// A TwentyQ index: binary codes with external ids and metadata, in one LMDB environment.
///
/// ## Schema (format version 5, `formatVersion`)
/// Named databases in the environment at `path` (`data.mdb`, `lock.mdb`); the first four are
/// those of version 1:
/// - `meta`: `magic` = "twentyq-index", `format` (UInt32 LE), `bits` (UInt32 LE),
///   `chunk` (codes per chunk, UInt32 LE), `count` (UInt64 LE), `model` (UTF-8 fingerprint of
///   the model that made the codes, empty for none).
/// - `codes`: chunk number (UInt32 big-endian, so key order = chunk order) -> the codes of
///   slots `chunk * C ..< min((chunk + 1) * C, count)`, contiguous little-endian words. Chunks
///   hold about 128 KiB, so each is one contiguous run of overflow pages in the map and a
///   search scans it in place: nothing is copied into the heap at open.
/// - `ids`: external id (UTF-8, 1...511 bytes) -> slot (UInt64 LE).
/// - `records`: slot (UInt64 big-endian) -> UInt32 LE id length, id bytes, metadata bytes.
///
/// - `mih` (version 2; in levels since version 3): the multi-index hashing tables
///   (CodeIndex+MultiIndex.swift), which every write keeps in step with the codes.
/// - `terms` and `postings` (version 4): the lexical stage's term records and postings
///   (CodeIndex+Terms.swift).
/// - `sums` (version 4): CRC-32 of every record and code chunk (CodeIndex+Checksums.swift).
/// - `termdf` (version 5): each term's document frequency, so BM25's IDF is one read instead
///   of one per postings partition (CodeIndex+Terms.swift).
/// Older indexes are upgraded when first opened for writing (older builds, which would not
/// maintain or would misread the new tables, then refuse them).
///
/// Slots are dense (`0 ..< count`): removing a code moves the last code into its slot, so a
/// scan never meets holes. Search results order ties by slot, which is insertion order until
/// removals move codes.
///
/// ## Concurrency
/// Any number of readers (threads or processes) run beside one writer; readers see the last
/// committed state and never block the writer. Each add or remove is one transaction: after a
/// crash the index holds every committed batch and nothing of an uncommitted one.
public final class CodeIndex: @unchecked Sendable {
    /// Format version this build writes and the newest it reads.
    public static let formatVersion: UInt32 = 5
    static let magic = Array("twentyq-index".utf8)
    /// Target bytes of codes per chunk.
    static let chunkBytes = 128 * 1024

    /// Directory of the index.
    public let path: String
    /// Code width.
    public let bits: Int
    /// 64-bit words per code.
    public let wordsPerCode: Int
    /// Codes per chunk value.
    public let codesPerChunk: Int
    /// Fingerprint of the model whose codes the index holds ("" for none).
    public let modelFingerprint: String
    /// Opened read-only.
    public var isReadOnly: Bool { env.isReadOnly }

    let env: LMDBEnvironment
    let meta: LMDBDatabase
    let codes: LMDBDatabase
    let ids: LMDBDatabase
    let records: LMDBDatabase
    /// The multi-index tables; nil for a version 1 index opened read-only.
    let mih: LMDBDatabase?
    /// The lexical stage's tables; nil for an older index opened read-only.
    let termsTable: LMDBDatabase?
    let postings: LMDBDatabase?
    /// CRC-32 of every record and code chunk (CodeIndex+Checksums.swift); nil for an index made
    /// before it existed (its values go unchecked).
    let sums: LMDBDatabase?
    /// Document frequency per term (version 5); nil for an older index opened read-only, whose
    /// frequencies are counted from the postings.
    let frequencies: LMDBDatabase?
    /// The floor of the multi-index thresholds (`maxPending`, `maxUnindexed`); tests lower it
    /// to exercise levels and rebuilds on small indexes. Not stored: every writer uses the
    /// default.
    var levelFloor = CodeIndex.defaultLevelFloor
    /// When a batch inverts the term records in memory (`CountedPostings`); tests change them
    /// to exercise the paths with and without on small indexes. Not stored.
    var inversionLimits = CountedPostings.Limits()
    /// Whether the multi-index tables paid for this object's recent searches (the planner's
    /// memory; not stored).
    let multiIndexHistory = MultiIndexHistory()
    /// The shared lock on the data file that keeps `compact` and `repair` away while this
    /// object is open (IndexLock.swift); nil where flock is not available.
    let fileLock: IndexLock?

    private init(path: String, lock: IndexLock?, env: LMDBEnvironment, meta: LMDBDatabase, codes: LMDBDatabase,
                 ids: LMDBDatabase, records: LMDBDatabase, mih: LMDBDatabase?, termsTable: LMDBDatabase?, postings: LMDBDatabase?,
                 sums: LMDBDatabase?, frequencies: LMDBDatabase?, bits: Int, codesPerChunk: Int, model: String) {
        self.path = path
        self.fileLock = lock
        self.env = env
        self.meta = meta
        self.codes = codes
        self.ids = ids
        self.records = records
        self.mih = mih
        self.termsTable = termsTable
        self.postings = postings
        self.sums = sums
        self.frequencies = frequencies
        self.bits = bits
        self.wordsPerCode = BinaryCode.wordCount(bits: bits)
        self.codesPerChunk = codesPerChunk
        self.modelFingerprint = model
    }

    // MARK: Opening

    /// Opens an existing index.
    /// - Parameter readOnly: open without write access (searching, `info`); a second process
    ///   may write meanwhile.
    /// - Throws: `IndexError.noIndex`, `.notADirectory`, `.notAnIndex`, `.corrupt`,
    ///   `.unsupportedFormat`, `.permissionDenied`.
    public static func open(at path: String, readOnly: Bool = false) throws -> CodeIndex {
        try open(at: path, readOnly: readOnly, lock: nil)
    }

    /// Opens with `lock` held already (the exclusive lock of `compact` and `repair`), or with
    /// a new shared lock when nil.
    static func open(at path: String, readOnly: Bool, lock given: IndexLock?) throws -> CodeIndex {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw IndexError.noIndex(path: path) }
        guard isDir.boolValue else { throw IndexError.notADirectory(path: path) }
        guard fm.fileExists(atPath: path + "/data.mdb") else {
            throw IndexError.notAnIndex(path: path, reason: "it has no data.mdb")
        }
        let lock = given ?? IndexLock.shared(path: path)
        let env = try openEnvironment(path: path, readOnly: readOnly)
        do {
            var format: UInt32 = 0
            let index = try env.read { txn -> CodeIndex in
                func db(_ name: String, flags: UInt32 = 0) throws -> LMDBDatabase {
                    var dbi = MDB_dbi()
                    let rc = mdb_dbi_open(txn.handle, name, flags, &dbi)
                    if rc == MDB_NOTFOUND {
                        throw IndexError.notAnIndex(path: path, reason: "an LMDB environment without TwentyQ's '\(name)' table")
                    }
                    try check(rc, "mdb_dbi_open(\(name))")
                    return LMDBDatabase(dbi: dbi, name: name)
                }
                let meta = try db("meta")
                guard let m = try txn.get(meta, key: Array("magic".utf8)), Array(m) == magic else {
                    throw IndexError.notAnIndex(path: path, reason: "its metadata lacks TwentyQ's magic")
                }
                format = try readU32(txn, meta, "format", path: path)
                guard format <= formatVersion else {
                    throw IndexError.unsupportedFormat(path: path, found: format, supported: formatVersion)
                }
                let bits = Int(try readU32(txn, meta, "bits", path: path))
                let chunk = Int(try readU32(txn, meta, "chunk", path: path))
                // Chunks hold about 128 KiB of codes, so at most 1 << 17 of the narrowest.
                guard BinaryCode.supportedBits.contains(bits), chunk > 0, chunk <= 1 << 20 else {
                    throw IndexError.corrupt(path: path, detail: "metadata gives width \(bits) and chunk \(chunk)")
                }
                let model = try txn.get(meta, key: Array("model".utf8)).map { String(decoding: $0, as: UTF8.self) } ?? ""
                let mih = format >= 2 ? try db("mih") : nil
                let terms = format >= 4 ? try db("terms") : nil
                let postings = format >= 4 ? try db("postings", flags: UInt32(MDB_DUPSORT | MDB_DUPFIXED)) : nil
                let sums = format >= 4 ? try? db("sums") : nil
                let frequencies = format >= 5 ? try db("termdf") : nil
                return CodeIndex(path: path, lock: lock, env: env, meta: meta, codes: try db("codes"), ids: try db("ids"),
                                 records: try db("records"), mih: mih, termsTable: terms, postings: postings, sums: sums, frequencies: frequencies,
                                 bits: bits, codesPerChunk: chunk, model: model)
            }
            if format == formatVersion || readOnly { return index }
            // An older index opened for writing: version 1 gets the tables' database (built by
            // the next write that finds the index large enough); version 2's one-level layout
            // is read as it is and rewritten as levels by the next write; versions before 4 get
            // the lexical stage's (empty) tables, so documents added from now on carry terms.
            // Older builds then refuse the index instead of misreading it or letting the tables
            // fall out of step. (No `sums`: the values written before carry no checksum, and a
            // partial table would make `check` call them damaged.) Version 4 gets `termdf`,
            // counted from its postings in the same transaction.
            let handles = try env.write { txn -> [LMDBDatabase] in
                let dbs = try [("mih", UInt32(MDB_CREATE)), ("terms", termTableFlags), ("postings", postingsTableFlags),
                               ("termdf", UInt32(MDB_CREATE))].map { name, flags in
                    var dbi = MDB_dbi()
                    try check(mdb_dbi_open(txn.handle, name, flags, &dbi), "mdb_dbi_open(\(name))")
                    return LMDBDatabase(dbi: dbi, name: name)
                }
                try countFrequencies(txn, postings: dbs[2], into: dbs[3])
                try txn.put(index.meta, key: Array("format".utf8), bytes: le(formatVersion))
                return dbs
            }
            return CodeIndex(path: path, lock: lock, env: env, meta: index.meta, codes: index.codes, ids: index.ids, records: index.records,
                             mih: handles[0], termsTable: handles[1], postings: handles[2], sums: index.sums, frequencies: handles[3],
                             bits: index.bits, codesPerChunk: index.codesPerChunk, model: index.modelFingerprint)
        } catch let error as LMDBError {
            throw translate(error, path: path, operation: "open the index")
        }
    }

    /// Opens the index at `path` if there is one, else creates it with `bits`.
    /// - Throws: `IndexError.widthMismatch` when an existing index has another width, and the
    ///   errors of `open` and `create`.
    public static func openOrCreate(at path: String, bits: Int, modelFingerprint: String = "") throws -> CodeIndex {
        if FileManager.default.fileExists(atPath: path + "/data.mdb") {
            let index = try open(at: path)
            guard index.bits == bits else { throw IndexError.widthMismatch(path: path, indexBits: index.bits, codeBits: bits) }
            guard index.modelFingerprint == modelFingerprint else {
                throw IndexError.modelMismatch(path: path, index: index.modelFingerprint.isEmpty ? "(none)" : index.modelFingerprint,
                                               given: modelFingerprint.isEmpty ? "(none)" : modelFingerprint)
            }
            return index
        }
        do {
            return try create(at: path, bits: bits, modelFingerprint: modelFingerprint)
        } catch IndexError.alreadyExists {
            return try openOrCreate(at: path, bits: bits, modelFingerprint: modelFingerprint)
        }
    }

    static func openEnvironment(path: String, readOnly: Bool) throws -> LMDBEnvironment {
        // Start the map at twice the data file (at least 256 MiB); it grows on demand.
        let env: LMDBEnvironment
        do {
            env = try LMDBEnvironment(path: path, readOnly: readOnly, mapSize: max(256 << 20, dataFileSize(path) * 2))
        } catch let error as LMDBError {
            throw translate(error, path: path, operation: readOnly ? "open the index for reading" : "open the index for writing")
        }
        // LMDB maps the file and trusts it to hold every committed page; reading a page past
        // a cut-short end would kill the process (SIGBUS), so the length is checked first.
        // The last committed page first, then the length: a writer in another process writes a
        // transaction's pages before its meta page, so a length taken after the meta was read
        // reaches it. Taken the other way round, a commit between the two looked like a file
        // cut short (a search during `index` once failed so, under load in CI).
        let needed = env.usedBytes
        let size = dataFileSize(path)
        guard size >= needed else {
            throw IndexError.corrupt(path: path, detail: "data.mdb is \(size) bytes but its committed pages reach byte \(needed): the file was cut short (an interrupted copy?)")
        }
        return env
    }

    /// Bytes of `path/data.mdb` (0 when absent).
    static func dataFileSize(_ path: String) -> Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/data.mdb")
        return (attributes?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Bytes free for unprivileged writers on the filesystem holding `path` (nil if unknown).
    static func freeBytes(_ path: String) -> Int? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    /// Maps an LMDB failure to the user-facing error.
    static func translate(_ error: LMDBError, path: String, operation: String) -> IndexError {
        switch error.code {
        case EACCES, EPERM, EROFS: return .permissionDenied(path: path, operation: operation)
        // A full disk reaches LMDB's commit as ENOSPC, or as EIO from its page writes.
        case ENOSPC: return .diskFull(path: path)
        case EIO where (freeBytes(path) ?? .max) < 1 << 20: return .diskFull(path: path)
        case MDB_INVALID: return .corrupt(path: path, detail: "data.mdb is not a valid LMDB file")
        case MDB_CORRUPTED, MDB_PAGE_NOTFOUND: return .corrupt(path: path, detail: error.description)
        case MDB_VERSION_MISMATCH: return .corrupt(path: path, detail: "written by an incompatible LMDB version")
        default: return .storage(path: path, detail: error.description)
        }
    }

    /// Runs a storage operation, translating LMDB errors for the user.
    func guarded<R>(_ operation: String, _ body: () throws -> R) throws -> R {
        do { return try body() } catch let error as LMDBError {
            throw Self.translate(error, path: path, operation: operation)
        }
    }
}

// MARK: - Little helpers for the schema's integers

@inline(__always) func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

@inline(__always) func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

func loadLE<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, as: T.Type) -> T? {
    guard bytes.count == MemoryLayout<T>.size else { return nil }
    return T(littleEndian: bytes.loadUnaligned(as: T.self))
}

func readU32(_ txn: LMDBTransaction, _ meta: LMDBDatabase, _ key: String, path: String) throws -> UInt32 {
    guard let raw = try txn.get(meta, key: Array(key.utf8)), let value = loadLE(raw, as: UInt32.self) else {
        throw IndexError.corrupt(path: path, detail: "metadata '\(key)' is missing or malformed")
    }
    return value
}
