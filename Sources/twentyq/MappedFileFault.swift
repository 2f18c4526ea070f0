#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGBUS, in this CLI, means one thing: a read in LMDB's memory map ran past the end of a
/// data.mdb (a page damaged so that LMDB follows it outside the file; LMDB does not check its
/// own page contents). Instead of dying with the signal, the CLI says so and exits with status
/// 74 (EX_IOERR). Only the CLI installs this: the library never sets signal handlers in an app.
/// Damage that the store can see (a file cut short, values outside the committed pages) is
/// reported earlier, as an ordinary error.
enum MappedFileFault {
    private static let message: StaticString = """
        Error: an index file is damaged: a read in data.mdb ran past the end of the file. \
        Restore the index from a backup or rebuild it.\n
        """

    /// Installs the handler (idempotent; call before any index is opened).
    static func install() {
        var action = sigaction()
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = { _ in
            MappedFileFault.message.withUTF8Buffer { _ = write(2, $0.baseAddress, $0.count) }
            _exit(74)
        }
        #else
        action.__sigaction_u.__sa_handler = { _ in
            MappedFileFault.message.withUTF8Buffer { _ = write(2, $0.baseAddress, $0.count) }
            _exit(74)
        }
        #endif
        sigemptyset(&action.sa_mask)
        sigaction(SIGBUS, &action, nil)
    }
}
