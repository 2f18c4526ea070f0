import BinaryCodes
import CLMDB
import Foundation

/// What `CodeIndex.compact(at:)` did.
public struct CompactReport: Sendable {
    public var documents = 0
    /// Bytes of data.mdb before and after.
    public var bytesBefore = 0, bytesAfter = 0
}

/// What `CodeIndex.repair(at:)` kept and what it could not.
public struct RepairReport: Sendable {
    /// Documents in the repaired index.
    public var kept = 0
    /// Documents left out, each with its slot, its id when one could be read (from the record
    /// or from the ids table), and why.
    public var dropped: [(slot: Int, id: String?, reason: String)] = []
    /// Documents kept without their term record (it was malformed): found by their code only,
    /// until they are indexed again.
    public var withoutTerms: [String] = []
    /// Documents whose term record and postings disagreed: kept with the terms both hold.
    public var partialTerms: [String] = []
    /// Documents kept whose code chunk failed its checksum: a bit of their code may be wrong
    /// (index them again to be sure).
    public var unverifiedCodes: [String] = []
    public var bytesBefore = 0, bytesAfter = 0
}

/// Rewriting an index's data file in place: `compact` (the same contents, free pages left out)
/// and `repair` (what can be read and verified, in fresh tables).
///
/// Both need the index to themselves: they take an exclusive lock on data.mdb that fails while
/// any process has the index open (IndexLock.swift), write the new file in a hidden sibling
/// directory, flush it to disk and rename(2) it over data.mdb. A kill at any moment leaves the
/// old file or the new one, whole; the sibling of a killed run is removed by the next run.
extension CodeIndex {
    /// Rewrites the index without its free pages (`mdb_env_copy2` with `MDB_CP_COMPACT`, then
    /// an atomic replace). LMDB reuses freed pages but never shrinks its file; after large
    /// removals this gives the disk back.
    /// - Throws: `IndexError.inUse` while another process (or another object in this one) has
    ///   the index open; `.diskFull` when the copy does not fit (the index is unchanged).
    public static func compact(at path: String) throws -> CompactReport {
        var report = CompactReport()
        report.bytesBefore = dataFileSize(path)
        try replacingDataFile(at: path, operation: "compact the index") { index, staging in
            report.documents = try index.info().count
            try index.guarded("compact the index") { try index.env.copy(to: staging) }
        }
        report.bytesAfter = dataFileSize(path)
        return report
    }

    /// Rebuilds the index from what can still be read: every record that matches its checksum,
    /// with a valid id and a code, is written with its metadata and terms into fresh tables
    /// (ids, postings, term statistics, checksums and multi-index tables are made anew; the
    /// model, blobs and table settings are kept). What cannot be read is listed in the report,
    /// so those documents can be indexed again.
    /// - Throws: `IndexError.inUse`, `.diskFull`, and `.corrupt` when not even the metadata
    ///   can be read (restore a backup then).
    public static func repair(at path: String) throws -> RepairReport {
        var report = RepairReport()
        report.bytesBefore = dataFileSize(path)
        try replacingDataFile(at: path, operation: "repair the index") { index, staging in
            let (blobs, settings) = try index.guarded("read the index") {
                try index.env.read { txn -> ([String: [UInt8]], MultiIndexSettings?) in
                    var blobs: [String: [UInt8]] = [:]
                    let prefix = Array("blob:".utf8)
                    try txn.forEach(index.meta) { key, value in
                        if key.starts(with: prefix) { blobs[String(decoding: key.dropFirst(prefix.count), as: UTF8.self)] = Array(value) }
                        return true
                    }
                    let configured = try index.mih.flatMap { try txn.get($0, key: Self.settingsKey) } != nil
                    return (blobs, configured ? try? index.readSettings(txn) : nil)
                }
            }
            try writeEmptyIndex(at: staging, reportedPath: path, bits: index.bits, modelFingerprint: index.modelFingerprint, blobs: blobs)
            let fresh = try open(at: staging, readOnly: false)
            if let settings { try fresh.configureMultiIndex(settings) }
            try index.salvage(into: fresh, report: &report)
        }
        report.bytesAfter = dataFileSize(path)
        return report
    }

    /// Copies every readable, verified document of this index into `fresh`, in batches.
    private func salvage(into fresh: CodeIndex, report: inout RepairReport) throws {
        try guarded("read the index") {
            try env.read { txn in
                // The ids table's view, to name documents whose record is lost.
                var idOfSlot: [Int: String] = [:]
                try? txn.forEach(ids) { key, value in
                    if let stored = loadLE(value, as: UInt64.self), let slot = Int(exactly: stored) { idOfSlot[slot] = String(decoding: key, as: UTF8.self) }
                    return true
                }
                // The slots to visit: those the records table holds (a damaged count cannot send
                // the repair over billions of empty slots), plus, as lost, the slots below the
                // count that the code chunks cover but no record does.
                let count = (try? storedCount(txn)) ?? 0
                var present: [Int] = []
                try? txn.forEach(records) { key, _ in
                    if key.count == 8, let slot = Int(exactly: UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))), slot < count { present.append(slot) }
                    return true
                }
                var chunkCodes = 0
                try? txn.forEach(codes) { _, value in chunkCodes += value.count / (8 * wordsPerCode); return true }
                var seen = Set<String>()
                var batch: [IndexEntry] = []
                var chunk: (number: Int, words: [UInt64], verified: Bool)?
                func drop(_ slot: Int, _ id: String?, _ reason: String) { report.dropped.append((slot, id ?? idOfSlot[slot], reason)) }
                let held = Set(present)
                for slot in 0 ..< min(count, chunkCodes) where !held.contains(slot) { drop(slot, nil, "no record") }
                func salvageSlot(_ slot: Int) throws {
                    let record: [UInt8]
                    do {
                        guard let raw = try txn.get(records, key: be(UInt64(slot))) else { drop(slot, nil, "no record"); return }
                        if try sumMatches(txn, key: Self.recordSumKey(slot), raw) == false {
                            drop(slot, nil, "the record does not match its checksum"); return
                        }
                        record = Array(raw)
                    } catch { drop(slot, nil, "the record cannot be read (\(error))"); return }
                    guard record.count >= 4 else { drop(slot, nil, "a record of \(record.count) bytes"); return }
                    let n = Int(UInt32(littleEndian: record.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }))
                    guard n >= 1, n <= Self.maxIDBytes, 4 + n <= record.count,
                          let id = String(validating: record[4 ..< 4 + n], as: UTF8.self) else {
                        drop(slot, nil, "the record's id is damaged"); return
                    }
                    guard (try? Self.validateID(id)) != nil else { drop(slot, id, "the id is not valid"); return }
                    guard seen.insert(id).inserted else { drop(slot, id, "a second record with this id"); return }
                    let c = slot / codesPerChunk
                    if chunk?.number != c { chunk = try? readChunk(txn, c) }
                    let offset = (slot % codesPerChunk) * wordsPerCode
                    guard let current = chunk, current.number == c, offset + wordsPerCode <= current.words.count,
                          let code = try? BinaryCode(bits: bits, words: Array(current.words[offset ..< offset + wordsPerCode])) else {
                        drop(slot, id, "its code cannot be read"); return
                    }
                    if !current.verified { report.unverifiedCodes.append(id) }
                    var terms: TermCounts?
                    do {
                        terms = try storedTerms(txn, slot: slot)
                        // Terms carry no checksum: a term is kept when its posting agrees
                        // (one damaged side or the other loses that term, nothing else).
                        if let all = terms, let postings {
                            let agreed = try all.keeping {
                                try txn.containsDuplicate(postings, key: Self.postingsKey($0, slot: slot), value: Self.postingsValue(slot))
                            }
                            if agreed.hashes.count < all.hashes.count { report.partialTerms.append(id) }
                            terms = agreed
                        }
                    } catch { report.withoutTerms.append(id); terms = nil }
                    batch.append(IndexEntry(id: id, code: code, metadata: Array(record[(4 + n)...]), terms: terms))
                    if batch.count == 4096 {
                        report.kept += try fresh.add(batch).added
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                for slot in present { try salvageSlot(slot) }
                report.kept += try fresh.add(batch).added
            }
        }
    }

    /// The words of code chunk `c` and whether they match their checksum (true for an index
    /// without checksums); nil when the chunk is missing.
    private func readChunk(_ txn: LMDBTransaction, _ c: Int) throws -> (number: Int, words: [UInt64], verified: Bool)? {
        guard let raw = try txn.get(codes, key: be(UInt32(c))) else { return nil }
        let words = (0 ..< raw.count / 8).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        return (c, words, try sumMatches(txn, key: Self.chunkSumKey(c), raw) != false)
    }

    /// Takes the index for this process alone, lets `write` put a new data.mdb into an empty
    /// staging directory (given the index, opened read-only), and moves it into place.
    private static func replacingDataFile(at path: String, operation: String,
                                          _ write: (CodeIndex, String) throws -> Void) throws {
        _ = try open(at: path, readOnly: true)  // the errors of a missing or foreign index, at once
        guard let lock = try IndexLock.exclusive(path: path) else { throw IndexError.inUse(path: path, operation: operation) }
        let (parent, staging) = stagingPath(for: path)
        guard (try? FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)) != nil else {
            throw IndexError.permissionDenied(path: path, operation: operation)
        }
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try {  // the old environment closes before its file is replaced
            let index = try open(at: path, readOnly: true, lock: lock)
            try write(index, staging)
        }()
        guard syncFile(staging + "/data.mdb"), rename(staging + "/data.mdb", path + "/data.mdb") == 0 else {
            if (freeBytes(parent) ?? .max) < 1 << 20 { throw IndexError.diskFull(path: path) }
            throw IndexError.permissionDenied(path: path, operation: "move the rewritten data.mdb into place")
        }
        _ = syncFile(path)  // the directory entry
        withExtendedLifetime(lock) {}
    }

    /// fsync(2) of a file or directory (`FileHandle.synchronize`); false when it fails.
    private static func syncFile(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.synchronize()) != nil
    }
}
