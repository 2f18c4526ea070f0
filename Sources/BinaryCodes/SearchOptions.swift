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
    package var kernel: KernelLevel
    /// Searches smaller than this many (query, code) pairs run on the calling thread:
    /// waking an idle core costs more than it saves (PERF-NOTES.md: milliseconds on this VM).
    /// A full distance pass (k > 1,024) streams every code from memory and counts one pair per
    /// 256 bits of each code, so one query over 1M codes of 1,024 bits (4M) is split.
    public var minPairsForThreads: Int
    /// Codes per cache block: every query of a batch is compared with one block before the
    /// next block is read, so the codes come from L2 rather than memory. 128 KiB by default.
    public var blockBytes: Int
    /// Whether an index's multi-index hashing tables may answer (see `MultiIndexUse`).
    public var multiIndex: MultiIndexUse
    /// In `.auto`, the share of a single-query scan's cost after which a search through the
    /// tables gives up and the scan answers instead.
    public var multiIndexBudget: Double
    /// Receives, per query, which path answered and what it cost (`search --explain-plan`).
    package var report: SearchReport?

    /// Settings for apps: the thread count and when multi-index tables may answer.
    public init(threads: Int? = nil, multiIndex: MultiIndexUse = .auto) {
        self.init(threads: threads, kernel: .best, multiIndex: multiIndex)
    }

    /// Every setting, for the package's own benchmarks and tests (a kernel level is not an app's
    /// concern: the best one this CPU runs is chosen).
    package init(threads: Int? = nil, kernel: KernelLevel,
                 minPairsForThreads: Int = 4_000_000, blockBytes: Int = 128 * 1024,
                 multiIndex: MultiIndexUse = .auto, multiIndexBudget: Double = 0.5) {
        self.threads = max(1, threads ?? SearchOptions.onlineCores)
        self.kernel = kernel
        self.minPairsForThreads = minPairsForThreads
        self.blockBytes = max(64, blockBytes)
        self.multiIndex = multiIndex
        self.multiIndexBudget = multiIndexBudget
    }

    /// Online processor count of this machine.
    public static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// When an index's multi-index hashing tables answer a search. Results are the same either
/// way; only the time differs.
public enum MultiIndexUse: String, Sendable, CaseIterable {
    /// The tables, when the index has them, until a query's work passes the budget; then
    /// the scan.
    case auto
    /// Always the scan.
    case off
    /// The tables whenever the index has them, whatever they cost (benchmarks, tests).
    case always
}

/// Collects, for each query of a search, the path that answered it and its cost. Shared by
/// reference, so one report can be handed down through `SearchOptions`.
public final class SearchReport: @unchecked Sendable {
    private let lock = PthreadMutex()
    private var stored: [MultiIndexPlan] = []
    private var storedSubstrings = 0
    private var storedPending = 0

    public init() {}

    /// One plan per query of the last search, in query order.
    public var plans: [MultiIndexPlan] { lock.locked { stored } }
    /// Substrings (tables) of the index searched last; 0 when it had no tables.
    public var substrings: Int { lock.locked { storedSubstrings } }
    /// Codes the tables did not hold as they are now (pending and unindexed ones, compared
    /// directly) in the last search.
    public var pending: Int { lock.locked { storedPending } }

    public func record(_ plans: [MultiIndexPlan], substrings: Int, pending: Int) {
        lock.locked {
            stored = plans
            storedSubstrings = substrings
            storedPending = pending
        }
    }
}

/// A pthread mutex (at a fixed address, as pthreads requires), for shared state outside the
/// hot loops.
final class PthreadMutex: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

extension Int {
    /// `self * other`, or `Int.max` when the product overflows: for result counts built from
    /// user numbers (k x oversample x shortlist), which are then bounded by what an index holds.
    @inlinable public func saturatingProduct(_ other: Int) -> Int {
        let (p, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? .max : p
    }
}
