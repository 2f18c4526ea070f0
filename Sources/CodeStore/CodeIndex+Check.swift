import BinaryCodes
import Foundation

/// What `CodeIndex.checkConsistency` found.
public struct CheckReport: Sendable {
    /// Codes checked (slots).
    public var codes = 0
    /// Term records and postings checked.
    public var termRecords = 0, postings = 0
    /// Records and code chunks whose checksums were verified (0 for an index without them).
    public var checksummed = 0
    /// Queries that the multi-index tables answered beside the scan (0 without tables).
    public var tableQueries = 0
    /// Each problem found, in words (slot, id, table); empty when the index is consistent.
    public var problems: [String] = []
    public var isConsistent: Bool { problems.isEmpty }
}

extension CodeIndex {
    /// Checks, in one read transaction, that the tables agree with each other: the code chunks
    /// follow each other and hold `count` codes; every slot has a record whose id is 1 to 511
    /// bytes of UTF-8 and maps back to that slot in `ids`, and `ids` holds no other entries;
    /// every term record decodes, each of its terms has a posting for its slot, the postings
    /// hold nothing else, the term statistics add up and each term's stored document frequency
    /// (format 5) is the number of records holding it; every record and code chunk matches
    /// its checksum; and the multi-index tables, when built, answer up to 64 codes of the index
    /// (evenly spaced slots) with the same 10 neighbours as the scan. Reports at most `limit`
    /// problems. Not checked: values written before the index kept checksums (an index
    /// upgraded from format 3).
    public func checkConsistency(limit: Int = 100) throws -> CheckReport {
        var report = CheckReport()
        func problem(_ text: String) { if report.problems.count < limit { report.problems.append(text) } }
        try guarded("check the index") {
            try env.read { txn in
                let count = try storedCount(txn)
                do { try codeBlocks(txn) { _ in } } catch let error as IndexError { problem("codes: \(error)") }
                report.codes = count
                var chunkCodes = 0
                try txn.forEach(codes) { key, value in
                    guard key.count == 4 else { return true }
                    chunkCodes += value.count / (8 * wordsPerCode)
                    let c = Int(UInt32(bigEndian: key.loadUnaligned(as: UInt32.self)))
                    switch try sumMatches(txn, key: Self.chunkSumKey(c), value) {
                    case false?: problem("codes: chunk \(c) (slots \(c * codesPerChunk) and on) does not match its checksum")
                    case true?: report.checksummed += 1
                    case nil: break
                    }
                    return true
                }
                // Records and ids, over the slots that the metadata, the chunks and the records
                // agree can exist (a damaged count must not send the check over billions).
                let recordCount = try txn.entryCount(records)
                for slot in 0 ..< min(count, max(chunkCodes, recordCount)) {
                    guard let record = try txn.get(records, key: be(UInt64(slot))) else { problem("slot \(slot): no record"); continue }
                    switch try sumMatches(txn, key: Self.recordSumKey(slot), record) {
                    case false?: problem("slot \(slot): the record does not match its checksum")
                    case true?: report.checksummed += 1
                    case nil: break
                    }
                    guard record.count >= 4 else { problem("slot \(slot): a record of \(record.count) bytes"); continue }
                    let n = Int(UInt32(littleEndian: record.loadUnaligned(as: UInt32.self)))
                    guard n >= 1, n <= Self.maxIDBytes, 4 + n <= record.count else {
                        problem("slot \(slot): the record's id length \(n) does not fit its \(record.count) bytes"); continue
                    }
                    let idBytes = Array(record[4 ..< 4 + n])
                    guard String(validating: idBytes, as: UTF8.self) != nil else { problem("slot \(slot): the id is not UTF-8"); continue }
                    guard let raw = try txn.get(ids, key: idBytes), let mapped = loadLE(raw, as: UInt64.self) else {
                        problem("slot \(slot): id '\(String(decoding: idBytes, as: UTF8.self))' is missing from the ids table"); continue
                    }
                    if mapped != UInt64(slot) { problem("slot \(slot): id '\(String(decoding: idBytes, as: UTF8.self))' points to slot \(mapped)") }
                }
                let idEntries = try txn.entryCount(ids)
                if idEntries != count { problem("ids: \(idEntries) entries for \(count) codes") }
                if recordCount != count { problem("records: \(recordCount) entries for \(count) codes") }
                // Terms, postings, statistics.
                guard let termsTable, let postings else { return }
                var documents = 0, length = 0, expected = 0
                var postingsOf: [Int: Set<UInt64>] = [:]
                var frequency: [UInt64: Int] = [:]
                try txn.forEach(termsTable) { key, value in
                    report.termRecords += 1
                    guard key.count == 8 else { problem("terms: a key of \(key.count) bytes"); return true }
                    let stored = UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))
                    guard let slot = Int(exactly: stored), slot < count else { problem("terms: a record for slot \(stored) past the \(count) codes"); return true }
                    guard let terms = TermCounts(encoded: value) else { problem("terms: the record of slot \(slot) is malformed"); return true }
                    documents += 1
                    length += terms.length
                    expected += terms.hashes.count
                    postingsOf[slot] = Set(terms.hashes)
                    for h in terms.hashes { frequency[h, default: 0] += 1 }
                    return true
                }
                try txn.forEach(postings) { key, value in
                    guard key.count == 12, value.count == 2 else { problem("postings: an entry of \(key.count) + \(value.count) bytes"); return true }
                    let partition = Int(UInt32(bigEndian: key.loadUnaligned(as: UInt32.self)))
                    let hash = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 4, as: UInt64.self))
                    let slot = partition * Self.postingsPartition + Int(UInt16(bigEndian: value.loadUnaligned(as: UInt16.self)))
                    report.postings += 1
                    if postingsOf[slot]?.remove(hash) == nil { problem("postings: slot \(slot) is listed under a term its record does not hold") }
                    return true
                }
                for (slot, left) in postingsOf.sorted(by: { $0.key < $1.key }) where !left.isEmpty {
                    problem("postings: slot \(slot) lacks \(left.count) of its terms")
                }
                if report.postings != expected { problem("postings: \(report.postings) entries, the term records hold \(expected)") }
                if let frequencies {
                    var wrong = 0, entries = 0
                    try txn.forEach(frequencies) { key, value in
                        entries += 1
                        guard key.count == 8, let n = loadLE(value, as: UInt32.self) else { wrong += 1; return true }
                        if frequency[UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))] != Int(n) { wrong += 1 }
                        return true
                    }
                    if wrong > 0 || entries != frequency.count {
                        problem("document frequencies: \(wrong) of \(entries) entries disagree with the term records (\(frequency.count) terms)")
                    }
                }
                let stats = try termStatistics(txn)
                if stats.documents != documents || stats.totalLength != length {
                    problem("term statistics: \(stats.documents) documents of \(stats.totalLength) terms recorded, \(documents) of \(length) found")
                }
            }
        }
        report.tableQueries = try checkMultiIndex { problem($0) }
        return report
    }

    /// Searches up to 64 stored codes through the tables and by the scan; each difference is a
    /// problem. Returns the number of queries compared.
    private func checkMultiIndex(_ problem: (String) -> Void) throws -> Int {
        let status: MultiIndexStatus
        do { status = try multiIndexStatus() } catch { problem("multi-index tables: \(error)"); return 0 }
        guard status.built, status.builtCount > 0 else { return 0 }
        var queries = try CodeMatrix(bits: bits)
        var slots: [Int] = []
        do {
            try guarded("check the index") {
                try env.read { txn in
                    let n = try storedCount(txn)
                    for slot in stride(from: 0, to: n, by: max(1, n / 64)).prefix(64) {
                        try queries.append(try readCode(txn, slot: slot))
                        slots.append(slot)
                    }
                }
            }
            let k = 10
            let tables = try nearest(to: queries, k: k, options: SearchOptions(multiIndex: .always))
            let scan = try nearest(to: queries, k: k, options: SearchOptions(multiIndex: .off))
            for (i, slot) in slots.enumerated() where tables[i] != scan[i] {
                problem("multi-index tables: the code of slot \(slot) gets other neighbours through the tables than by the scan (rebuild them: `twentyq tables --disable` then `--enable`, or `check --repair`)")
            }
        } catch { problem("multi-index tables: \(error)") }
        return slots.count
    }
}
