import ArgumentParser
import Foundation
import TwentyQ

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy an index while it is in use: consistent, compacted, into a new directory.",
        discussion: """
        The copy holds the state last committed when it began (LMDB's mdb_env_copy2 with \
        MDB_CP_COMPACT): writers go on meanwhile, and free pages are left out, so the copy is \
        often smaller than the original. It appears whole or not at all, and opens as an \
        ordinary index (search it, or move it back in place of a damaged one).
        """
    )

    @OptionGroup var index: IndexOptions
    @Option(help: ArgumentHelp("The new directory for the copy (must not exist).", valueName: "dir")) var out: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let store = try CodeIndex.open(at: index.db, readOnly: true)
        let start = Date()
        try store.backup(to: out)
        let copy = try CodeIndex.open(at: out, readOnly: true)
        let info = try copy.info(), original = try store.info()
        let seconds = Date().timeIntervalSince(start)
        if json {
            print(try jsonLine(["db": index.db, "out": out, "documents": info.count, "file_bytes": info.fileBytes,
                                "original_file_bytes": original.fileBytes, "seconds": seconds]))
        } else {
            print(String(format: "backed up %d documents from %@ to %@ (%.1f MiB, the original %.1f MiB) in %.2f s", info.count,
                         index.db, out, Double(info.fileBytes) / 1_048_576, Double(original.fileBytes) / 1_048_576, seconds))
        }
    }
}
