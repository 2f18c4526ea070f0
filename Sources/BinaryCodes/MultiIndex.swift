import CHammingKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Multi-index hashing over codes held in memory (ids are row numbers), with the scan as
/// fallback. `CodeIndex` keeps the same tables in LMDB.
///
/// Planning: the search counts its work (bucket probes and distance computations) and, when
/// it reaches `budget` x the cost of a scan, stops and scans instead (`plan.method == .scan`):
/// wide radii, small indexes and unstructured codes then cost at most (1 + budget) scans.
public final class MultiIndex: @unchecked Sendable {
    public let bits: Int
    public let count: Int
    public let layout: MultiIndexLayout
    /// The substrings of `layout`.
    public var substrings: [BitRange] { layout.substrings }
    let words: Int
    let codes: [UInt64]
    /// Each table's bytes (`MultiIndexLayout.writeTable`), allocated here so that views of
    /// them stay valid for the life of the object.
    private let storage: [UnsafeMutableRawBufferPointer]

    public static var maxSubstringBits: Int { MultiIndexLayout.maxSubstringBits }
    public static func maxSubstringBits(count: Int) -> Int { MultiIndexLayout.maxSubstringBits(count: count) }
    public static func defaultSubstrings(bits: Int, count: Int) -> Int { MultiIndexLayout.defaultSubstrings(bits: bits, count: count) }

    /// Builds the tables over the rows of `matrix` (ids are row numbers).
    /// - Parameter substrings: m; see `MultiIndexLayout.init(bits:count:substrings:)`.
    public init(_ matrix: CodeMatrix, substrings m: Int? = nil) {
        bits = matrix.bits
        count = matrix.count
        words = matrix.wordsPerCode
        codes = matrix.storage
        let layout = MultiIndexLayout(bits: bits, count: count, substrings: m)
        self.layout = layout
        let (count, words) = (count, words)
        storage = codes.withUnsafeBufferPointer { all in
            let slots = SlotCodes(single: CodeBlock(words: all.baseAddress, count: count, firstID: 0), bits: matrix.bits)
            return layout.substrings.indices.map { t in
                let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.tableByteCount(t, entries: count, words: words), alignment: 8)
                layout.writeTable(t, codes: slots, slots: 0 ..< count, into: bytes.baseAddress!)
                return bytes
            }
        }
    }

    deinit {
        for table in storage { table.deallocate() }
    }

    /// Bytes of the tables (offsets, slots and code copies), beside the codes.
    public var tableBytes: Int { storage.reduce(0) { $0 + $1.count } }

    /// Calls `body` with the planner over the codes and tables, for one query on the calling
    /// thread: the tables until `budget` x a scan's cost, then the scan.
    private func withPlanner<R>(budget: Double, kernel: KernelLevel, _ body: (SearchPlanner) throws -> R) rethrows -> R {
        try codes.withUnsafeBufferPointer { all in
            let slots = SlotCodes(single: CodeBlock(words: all.baseAddress, count: count, firstID: 0), bits: bits)
            let tables = storage.indices.map {
                MultiIndexTable(layout: layout, table: $0, entries: count, words: words, bytes: UnsafeRawPointer(storage[$0].baseAddress!))
            }
            var options = SearchOptions(threads: 1, kernel: kernel, multiIndex: budget.isFinite ? .auto : .always, multiIndexBudget: budget)
            options.minPairsForThreads = .max
            let levels = count == 0 ? [] : [MultiIndexLevel(layout: layout, slots: 0 ..< count, tables: tables)]
            return try body(SearchPlanner(codes: slots, levels: levels, options: options))
        }
    }

    /// The k nearest codes to `query`, ascending by (distance, id): exactly the scan's answer.
    /// - Parameters:
    ///   - budget: the share of a scan's cost after which the search scans instead.
    ///   - kernel: the build of the probe kernel (all give the same answers).
    /// - Throws: `CodeError.invalidK`, `CodeError.widthMismatch`.
    public func nearest(to query: BinaryCode, k: Int, budget: Double = 0.5, kernel: KernelLevel = .best) throws -> (neighbors: [Neighbor], plan: MultiIndexPlan) {
        try HammingSearch.check(k: k)
        try HammingSearch.check(query.bits, against: bits)
        let queries = try CodeMatrix(bits: bits, words: query.words)
        let (found, plans) = withPlanner(budget: budget, kernel: kernel) { $0.nearest(queries, k: k) }
        return (found[0], plans[0])
    }

    /// Every code within `radius` of `query`, ascending by (distance, id).
    /// - Throws: `CodeError.invalidRadius`, `CodeError.widthMismatch`.
    public func within(radius: Int, of query: BinaryCode, budget: Double = 0.5, kernel: KernelLevel = .best) throws -> (neighbors: [Neighbor], plan: MultiIndexPlan) {
        try HammingSearch.check(radius: radius, bits: bits)
        try HammingSearch.check(query.bits, against: bits)
        return withPlanner(budget: budget, kernel: kernel) { $0.within(radius: radius, of: query) }
    }
}

extension HammingSearch {
    /// The rows of `matrix` within distance `limit` of `query`, ascending by row, through the
    /// filter kernel the multi-index search runs on each bucket (`tq_filter_within`).
    package static func filter(_ matrix: CodeMatrix, within limit: Int, of query: BinaryCode, kernel: KernelLevel = .best) throws -> [Neighbor] {
        try check(query.bits, against: matrix.bits)
        guard matrix.count > 0 else { return [] }
        var index = [UInt32](repeating: 0, count: matrix.count), dist = [UInt32](repeating: 0, count: matrix.count)
        let found = matrix.storage.withUnsafeBufferPointer { codes in
            query.words.withUnsafeBufferPointer { q in
                Int(tq_filter_within(kernel.cLevel, codes.baseAddress!, Int64(matrix.count), Int64(matrix.wordsPerCode), q.baseAddress!,
                                     UInt32(clamping: max(0, limit)), &index, &dist))
            }
        }
        return (0..<found).map { Neighbor(id: Int(index[$0]), distance: Int(dist[$0])) }
    }
}

/// What the tables did for an index's recent searches, so that the planner stops trying them
/// while they do not pay (unstructured codes, far queries) instead of spending its budget on
/// every query before it scans.
///
/// After `warmUp` attempts, a query tries the tables only when at least a quarter of the last
/// `window` attempts were answered by them; otherwise it goes straight to the scan, except every
/// `retryEvery`-th query, which tries again. A retry that pays starts the history afresh, so the
/// planner comes back as soon as the queries change. Answers never depend on it.
public final class MultiIndexHistory: @unchecked Sendable {
    public static let window = 32
    public static let warmUp = 8
    public static let retryEvery = 16
    private let lock = PthreadMutex()
    /// Bit i: whether the i-th most recent attempt was answered by the tables.
    private var outcomes: UInt64 = 0
    private var attempts = 0
    private var skipped = 0

    public init() {}

    /// Past the warm-up, fewer than a quarter of the last `window` attempts paid (call under
    /// the lock).
    private var failing: Bool {
        let n = min(attempts, Self.window)
        return attempts >= Self.warmUp && 4 * (outcomes & ((1 << UInt64(n)) - 1)).nonzeroBitCount < n
    }

    /// Whether the next query should try the tables.
    public func shouldTry() -> Bool {
        lock.locked {
            guard failing else { return true }
            skipped += 1
            return skipped % Self.retryEvery == 0
        }
    }

    /// Records whether a query that tried the tables was answered by them.
    public func record(paid: Bool) {
        lock.locked {
            if failing && paid {
                // A retry paid: the queries have changed; give the tables a fresh start.
                outcomes = 0
                attempts = 0
                skipped = 0
            }
            outcomes = (outcomes << 1) | (paid ? 1 : 0)
            attempts += 1
        }
    }
}
