import BinaryCodes
import CLMDB
import Foundation

/// Making indexes and copies of them appear whole: creation and backup.
extension CodeIndex {
    /// Creates a new, empty index in `path` (created if missing; must be empty if present).
    ///
    /// Creation is atomic: the index (tables, metadata, blobs) is written in a hidden sibling
    /// directory and renamed into place, so a kill at any moment leaves either no index at
    /// `path` or a whole empty one; of two processes creating the same index, one wins and the
    /// other gets `IndexError.alreadyExists` (callers that meant "open or create" then open it).
    /// - Throws: `IndexError.alreadyExists`, `.notAnIndex` (a non-empty directory),
    ///   `.permissionDenied`, `CodeError.unsupportedWidth`.
    /// - Parameter blobs: named blobs (see `blob(_:)`) written in the same transaction that
    ///   creates the index, so the index never exists without them.
    public static func create(at path: String, bits: Int, modelFingerprint: String = "",
                              blobs: [String: [UInt8]] = [:]) throws -> CodeIndex {
        guard BinaryCode.supportedBits.contains(bits) else { throw CodeError.unsupportedWidth(bits: bits) }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw IndexError.notADirectory(path: path) }
            if fm.fileExists(atPath: path + "/data.mdb") { throw IndexError.alreadyExists(path: path) }
            let entries = (try? fm.contentsOfDirectory(atPath: path)) ?? []
            guard entries.isEmpty else {
                throw IndexError.notAnIndex(path: path, reason: "the directory is not empty and has no data.mdb; choose an empty or new directory")
            }
        }
        try inStaging(for: path, operation: "create the index directory") { staging in
            try writeEmptyIndex(at: staging, reportedPath: path, bits: bits, modelFingerprint: modelFingerprint, blobs: blobs)
        }
        return try open(at: path)
    }

    /// Writes a consistent, compacted copy of the index into `destination` (a new directory),
    /// while writers go on; the copy appears there whole or not at all (written in a hidden
    /// sibling and renamed into place) and opens as an ordinary index.
    /// - Throws: `IndexError.alreadyExists` when `destination` exists, storage errors.
    public func backup(to destination: String) throws {
        guard !FileManager.default.fileExists(atPath: destination) else { throw IndexError.alreadyExists(path: destination) }
        try Self.inStaging(for: destination, operation: "create the backup directory") { staging in
            try guarded("back up the index") { try env.copy(to: staging) }
        }
    }

    /// Makes a directory appear at `path` whole or not at all: `fill` writes it in a hidden
    /// sibling (`.NAME.creating-PID-UUID`), which rename(2) then moves into place; rename
    /// replaces an empty directory and fails when another process put a non-empty one there
    /// first (`IndexError.alreadyExists`). The sibling is removed whatever happens; those of
    /// dead processes are removed first.
    static func inStaging(for path: String, operation: String, _ fill: (String) throws -> Void) throws {
        let fm = FileManager.default
        let (parent, staging) = stagingPath(for: path)
        do {
            try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: false)
        } catch {
            throw IndexError.permissionDenied(path: path, operation: operation)
        }
        defer { try? fm.removeItem(atPath: staging) }
        try fill(staging)
        if rename(staging, path) != 0 {
            if errno == ENOTEMPTY || errno == EEXIST { throw IndexError.alreadyExists(path: path) }
            throw IndexError.permissionDenied(path: path, operation: "move the new directory into place")
        }
    }

    /// A new hidden sibling of `path` to write in (`.NAME.creating-PID-UUID`), with `path`'s
    /// parent; the siblings that killed runs left are removed first.
    static func stagingPath(for path: String) -> (parent: String, staging: String) {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let parent = url.deletingLastPathComponent().path, name = url.lastPathComponent
        removeAbandonedCreations(parent: parent, name: name)
        return (parent, parent + "/.\(name).creating-\(getpid())-\(UUID().uuidString)")
    }

    /// Removes the staging directories of creations whose process has died (killed mid-way).
    static func removeAbandonedCreations(parent: String, name: String) {
        let prefix = ".\(name).creating-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count).prefix { $0 != "-" }), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: parent + "/" + entry)
        }
    }

    /// Writes the tables and metadata of an empty index into the LMDB environment at `path`
    /// (closed again on return); errors name `reportedPath`.
    static func writeEmptyIndex(at path: String, reportedPath: String, bits: Int, modelFingerprint: String,
                                        blobs: [String: [UInt8]]) throws {
        let env = try openEnvironment(path: path, readOnly: false)
        let chunk = max(1, chunkBytes / (8 * BinaryCode.wordCount(bits: bits)))
        do {
            try env.write { txn in
                let tables = [("meta", UInt32(MDB_CREATE)), ("codes", UInt32(MDB_CREATE)), ("ids", UInt32(MDB_CREATE)),
                              ("records", UInt32(MDB_CREATE)), ("mih", UInt32(MDB_CREATE)),
                              ("terms", termTableFlags), ("postings", postingsTableFlags), ("sums", UInt32(MDB_CREATE)),
                              ("termdf", UInt32(MDB_CREATE))]
                let dbs = try tables.map { name, flags -> LMDBDatabase in
                    var dbi = MDB_dbi()
                    try check(mdb_dbi_open(txn.handle, name, flags, &dbi), "mdb_dbi_open(\(name))")
                    return LMDBDatabase(dbi: dbi, name: name)
                }
                let meta = dbs[0]
                try txn.put(meta, key: Array("magic".utf8), bytes: magic)
                try txn.put(meta, key: Array("format".utf8), bytes: le(formatVersion))
                try txn.put(meta, key: Array("bits".utf8), bytes: le(UInt32(bits)))
                try txn.put(meta, key: Array("chunk".utf8), bytes: le(UInt32(chunk)))
                try txn.put(meta, key: Array("count".utf8), bytes: le(UInt64(0)))
                try txn.put(meta, key: Array("model".utf8), bytes: Array(modelFingerprint.utf8))
                for (name, bytes) in blobs { try txn.put(meta, key: Array(("blob:" + name).utf8), bytes: bytes) }
            }
        } catch let error as LMDBError {
            throw translate(error, path: reportedPath, operation: "create the index")
        }
    }
}
