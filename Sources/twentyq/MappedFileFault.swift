import CMappedFaults
import Foundation

/// A fault inside LMDB, in this CLI, means one thing: a damaged data.mdb. LMDB trusts its
/// pages; a damaged page header can send it past the end of the mapped file (SIGBUS) or a
/// damaged node flag through a pointer it never set (SIGSEGV inside liblmdb). Instead of dying
/// with the signal, the CLI says so and exits with status 74 (EX_IOERR). A SIGSEGV anywhere
/// else is a bug and still crashes (CMappedFaults tells them apart by the faulting
/// instruction), and so is an LMDB assertion. A damaged file can also make LMDB go round a cycle
/// of pages forever: a watchdog thread exits the same way when one LMDB call that walks pages
/// runs for `stallSeconds`. Only the CLI installs this: the library never sets signal handlers in an app.
/// Damage that the store can see (a file cut short, values outside the committed pages, a
/// checksum that does not match) is reported earlier, as an ordinary error.
enum MappedFileFault {
    private static let message: StaticString = """
        Error: an index file is damaged: LMDB met a page it cannot follow in data.mdb. Restore \
        the index from a backup, or index the documents again into a new index.\n
        """

    /// Seconds one LMDB call may walk pages before the index counts as damaged (a cycle of
    /// pages): `TWENTYQ_LMDB_STALL_SECONDS`, default 30 (such calls take microseconds).
    static var stallSeconds: UInt32 {
        ProcessInfo.processInfo.environment["TWENTYQ_LMDB_STALL_SECONDS"].flatMap { UInt32($0) }.map { max(1, $0) } ?? 30
    }

    /// Installs the handler and starts the stall watchdog (call once, before any index is
    /// opened).
    static func install() {
        message.withUTF8Buffer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                twentyq_install_lmdb_fault_exit($0, 74)
            }
        }
        twentyq_start_lmdb_watchdog(stallSeconds)
    }
}
