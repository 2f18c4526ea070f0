import ArgumentParser
import Foundation
import TwentyQ

struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Give back the disk space of removed documents: rewrite an index without its free pages.",
        discussion: """
        LMDB reuses the pages that removals free but never shrinks its file. compact writes a \
        compacted copy beside the index and renames it over data.mdb: a kill at any moment \
        leaves the old file or the new one, whole. It needs the index to itself: while a \
        search, an index run or a server has it open, compact refuses (twentyq backup --out \
        makes a compacted copy of an index in use).
        """
    )

    @OptionGroup var index: IndexOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let start = Date()
        let report = try CodeIndex.compact(at: index.db)
        let seconds = Date().timeIntervalSince(start)
        if json {
            print(try jsonLine(["db": index.db, "documents": report.documents, "bytes_before": report.bytesBefore,
                                "bytes_after": report.bytesAfter, "seconds": seconds]))
        } else {
            print(String(format: "compacted %@ (%d documents): %.1f MiB -> %.1f MiB in %.2f s", index.db, report.documents,
                         Double(report.bytesBefore) / 1_048_576, Double(report.bytesAfter) / 1_048_576, seconds))
        }
    }
}
