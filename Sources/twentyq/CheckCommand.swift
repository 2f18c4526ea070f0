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
        term statistics, every record and code chunk against its checksum. A damaged index: \
        restore a backup (twentyq backup makes them) or index the documents again.
        """
    )

    @OptionGroup var index: IndexOptions
    @Option(help: "Problems to list at most.") var limit: Int = 100
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1 (got \(limit))") }
    }

    func run() throws {
        let store = try CodeIndex.open(at: index.db, readOnly: true)
        let report = try store.checkConsistency(limit: limit)
        if json {
            print(try jsonLine(["db": index.db, "consistent": report.isConsistent, "codes": report.codes,
                                "term_records": report.termRecords, "postings": report.postings,
                                "checksummed": report.checksummed, "problems": report.problems]))
        } else {
            print("\(index.db): \(report.codes) codes, \(report.termRecords) term records, \(report.postings) postings, \(report.checksummed) checksums: "
                  + (report.isConsistent ? "consistent" : "\(report.problems.count) problem(s)"))
            for p in report.problems { print("  " + TerminalText.safe(p)) }
        }
        if !report.isConsistent { throw ExitCode(1) }
    }
}
