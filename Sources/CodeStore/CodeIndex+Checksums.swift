import BinaryCodes
import CLMDB

/// Checksums (format 4): the `sums` table holds the CRC-32 (UInt32 LE) of every record, under
/// "r" + slot (UInt64 BE), and of every code chunk as stored, under "c" + chunk (UInt32 BE),
/// written in the same transaction as the value. `checkConsistency` verifies them all, so a
/// changed bit inside a code or a record's metadata is found. Every record read for a caller
/// (search results, metadata, export) is verified too (`verifiedRecord`: one more lookup and
/// a CRC of a few hundred bytes); code chunks are not verified by searches (a scan would read
/// every chunk twice).
extension CodeIndex {
    static func chunkSumKey(_ chunk: Int) -> [UInt8] { [UInt8(ascii: "c")] + be(UInt32(chunk)) }
    static func recordSumKey(_ slot: Int) -> [UInt8] { [UInt8(ascii: "r")] + be(UInt64(slot)) }

    func putSum(_ txn: LMDBTransaction, key: [UInt8], _ sum: UInt32) throws {
        guard let sums else { return }
        try txn.put(sums, key: key, bytes: le(sum))
    }

    /// Stores a record at `slot` with its checksum.
    func putRecord(_ txn: LMDBTransaction, slot: Int, _ bytes: [UInt8]) throws {
        try txn.put(records, key: be(UInt64(slot)), bytes: bytes)
        try bytes.withUnsafeBytes { try putSum(txn, key: Self.recordSumKey(slot), CRC32.checksum($0)) }
    }

    /// Deletes the record at `slot` and its checksum.
    func deleteRecord(_ txn: LMDBTransaction, slot: Int) throws {
        try txn.delete(records, key: be(UInt64(slot)))
        if let sums { try txn.delete(sums, key: Self.recordSumKey(slot)) }
    }

    /// The record at `slot`, verified against its checksum; nil when the slot has none.
    /// - Throws: `IndexError.corrupt` naming the slot when the record does not match.
    func verifiedRecord(_ txn: LMDBTransaction, slot: Int) throws -> UnsafeRawBufferPointer? {
        guard let record = try txn.get(records, key: be(UInt64(slot))) else { return nil }
        if try sumMatches(txn, key: Self.recordSumKey(slot), record) == false {
            throw IndexError.corrupt(path: path, detail: "the record of slot \(slot) does not match its checksum")
        }
        return record
    }

    /// Whether `bytes` match the checksum stored under `key`: nil when the index keeps no
    /// checksums, false when one is missing or differs.
    func sumMatches(_ txn: LMDBTransaction, key: [UInt8], _ bytes: UnsafeRawBufferPointer) throws -> Bool? {
        guard let sums else { return nil }
        guard let raw = try txn.get(sums, key: key), let stored = loadLE(raw, as: UInt32.self) else { return false }
        return stored == CRC32.checksum(bytes)
    }
}
