#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a search runs. Results never depend on these settings, only speed does.
public struct SearchOptions: Sendable {
    /// Worker threads; defaults to the number of online cores.
    public var threads: Int
    /// Kernel build; defaults to the best this CPU runs. An unsupported level falls back to
    /// the best supported one below it.
    public var kernel: KernelLevel
    /// Searches smaller than this many (query, code) pairs run on the calling thread:
    /// waking an idle core costs more than it saves (PERF-NOTES.md: milliseconds on this VM).
    public var minPairsForThreads: Int
    /// Codes per cache block: every query of a batch is compared with one block before the
    /// next block is read, so the codes come from L2 rather than memory. 128 KiB by default.
    public var blockBytes: Int

    public init(threads: Int? = nil, kernel: KernelLevel = .best,
                minPairsForThreads: Int = 4_000_000, blockBytes: Int = 128 * 1024) {
        self.threads = max(1, threads ?? SearchOptions.onlineCores)
        self.kernel = kernel
        self.minPairsForThreads = minPairsForThreads
        self.blockBytes = max(64, blockBytes)
    }

    /// Online processor count of this machine.
    public static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
