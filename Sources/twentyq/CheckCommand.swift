import ArgumentParser
import Foundation
import TwentyQ

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that an index's tables agree with each other (exit status 0: consistent, 1: problems).",
        discussion: """
        Reads the whole index in one read transaction (writers may go on): code chunks and count, \
        every record against the ids table, every term record against the postings and the \
        term statistics, every record and code chunk against its checksum, and the multi-index \
        tables against a scan. A damaged index: restore a backup (twentyq backup makes them), or \
        --repair it: every document whose record still matches its checksum is written with its \
        code, metadata and terms into fresh tables, and the ones left out are listed so you can \
        index them again. --repair needs the index to itself (stop searches and index runs on it).
        """
    )

    @OptionGroup var index: IndexOptions
    @Option(help: "Problems to list at most.") var limit: Int = 100
    @Flag(help: "Rebuild an inconsistent index from what can still be read (needs the index to itself).") var repair = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1 (got \(limit))") }
    }

    func run() throws {
        // The index closes before a repair, which needs it to itself.
        let (checked, model) = try { () throws -> (CheckReport, [UInt8]?) in
            let store = try CodeIndex.open(at: index.db, readOnly: true)
            return (try store.checkConsistency(limit: limit), try store.blob(DocumentIndex.modelKey))
        }()
        var report = checked
        // The stored model (text and vector indexes): LMDB's tables can be whole while it is not.
        if let bytes = model {
            do { _ = try ModelFile.decodeAny(bytes, path: index.db + " (stored model)") } catch let error as ModelFileError {
                report.problems.append("the stored model: \(error.reason) (a repair cannot restore it: restore a backup, or index the documents again into a new index)")
            }
        }
        if json {
            print(try jsonLine(["db": index.db, "consistent": report.isConsistent, "codes": report.codes,
                                "term_records": report.termRecords, "postings": report.postings,
                                "checksummed": report.checksummed, "table_queries": report.tableQueries, "problems": report.problems]))
        } else {
            print("\(index.db): \(report.codes) codes, \(report.termRecords) term records, \(report.postings) postings, \(report.checksummed) checksums: "
                  + (report.isConsistent ? "consistent" : "\(report.problems.count) problem(s)"))
            for p in report.problems { print("  " + TerminalText.safe(p)) }
        }
        guard !report.isConsistent else { return }
        guard repair else { throw ExitCode(1) }
        try runRepair()
    }

    private func runRepair() throws {
        let repaired = try CodeIndex.repair(at: index.db)
        let after = try CodeIndex.open(at: index.db, readOnly: true).checkConsistency(limit: limit)
        let dropped = repaired.dropped.map { d -> [String: Any] in
            var entry: [String: Any] = ["slot": d.slot, "reason": d.reason]
            if let id = d.id { entry["id"] = id }
            return entry
        }
        if json {
            print(try jsonLine(["db": index.db, "repaired": true, "kept": repaired.kept, "dropped": dropped,
                                "without_terms": repaired.withoutTerms, "partial_terms": repaired.partialTerms, "unverified_codes": repaired.unverifiedCodes,
                                "consistent_after": after.isConsistent, "problems_after": after.problems]))
        } else {
            print("repaired \(index.db): kept \(repaired.kept) documents, left out \(repaired.dropped.count)")
            for d in repaired.dropped.prefix(limit) {
                print("  left out slot \(d.slot)" + (d.id.map { " (id '\(TerminalText.safe($0))')" } ?? "") + ": \(d.reason)")
            }
            if !repaired.withoutTerms.isEmpty {
                print("  \(repaired.withoutTerms.count) kept without their terms (a damaged term record): index them again to find them by their words")
            }
            if !repaired.partialTerms.isEmpty {
                print("  \(repaired.partialTerms.count) kept with the terms that their term record and the postings agreed on")
            }
            if !repaired.unverifiedCodes.isEmpty {
                print("  \(repaired.unverifiedCodes.count) kept with a code that failed its checksum: index them again to be sure of their codes")
            }
            if !repaired.dropped.isEmpty { print("  index the documents left out again from their source") }
            print("after the repair: " + (after.isConsistent ? "consistent" : "\(after.problems.count) problem(s)"))
        }
        if !after.isConsistent { throw ExitCode(1) }
    }
}
