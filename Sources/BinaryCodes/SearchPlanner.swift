/// How a search runs, decided in one place for every caller (`CodeIndex` over a read
/// transaction's snapshot of its codes and tables, `MultiIndex` over memory): per query,
/// through the multi-index tables when there are any and `options.multiIndex` allows, within a
/// budget after which the scan answers instead; every query the tables did not answer goes to
/// one batch scan. Results never depend on the plan: they are the scan's, ties by slot.
///
/// The planner takes what it is given as checked (k >= 1, the queries' width the codes'): the
/// public entry points check them once.
package struct SearchPlanner {
    package let codes: SlotCodes
    /// The tables' levels over consecutive slots from 0 (none: every query is scanned).
    package let levels: [MultiIndexLevel]
    /// Slots inside the levels whose codes changed since their level was built.
    package let pending: UnsafeBufferPointer<UInt32>
    package let options: SearchOptions
    /// In `.auto`, recent outcomes: searches that the tables did not pay for send later ones
    /// straight to the scan (`MultiIndexHistory`). Nil: always try the tables.
    package let history: MultiIndexHistory?

    package init(codes: SlotCodes, levels: [MultiIndexLevel] = [], pending: UnsafeBufferPointer<UInt32> = UnsafeBufferPointer(start: nil, count: 0),
                 options: SearchOptions, history: MultiIndexHistory? = nil) {
        self.codes = codes
        self.levels = levels
        self.pending = pending
        self.options = options
        self.history = history
    }

    /// Queries a batch tries alone through the tables before deciding for the rest: when
    /// fewer than a quarter of them are answered there, the rest go straight to the batch scan.
    static let trialQueries = 16

    private var budget: Double { options.multiIndex == .always ? .infinity : options.multiIndexBudget }

    /// Whether this search tries the tables at all.
    private func triesTables() -> Bool {
        guard !levels.isEmpty, options.multiIndex != .off else { return false }
        return options.multiIndex != .auto || history?.shouldTry() ?? true
    }

    private func record(paid: Bool) {
        if options.multiIndex == .auto { history?.record(paid: paid) }
    }

    /// The k nearest slots to each query, ascending by (distance, slot), and how each was found
    /// (`.scanned` for a query that never tried the tables). With `counted` (a proper part of
    /// each code's words: `HammingSearch.nearest(counted:)`), distances are over those words and
    /// every query is scanned: the tables index substrings of whole codes.
    package func nearest(_ queries: CodeMatrix, k: Int, counted: Range<Int>? = nil) -> (neighbors: [[Neighbor]], plans: [MultiIndexPlan]) {
        precondition(k >= 1 && queries.bits == codes.bits, "k and the width are checked where they enter")
        let n = queries.count
        let whole = counted.map { $0 == 0 ..< codes.words } ?? true
        guard n > 0, whole, triesTables() else {
            return (HammingSearch.nearest(queries: queries, in: codes, k: k, options: options, counted: whole ? nil : counted),
                    Array(repeating: .scanned, count: n))
        }
        var results = [[Neighbor]?](repeating: nil, count: n)
        var plans = [MultiIndexPlan](repeating: .scanned, count: n)
        func answer(_ q: Int) -> (neighbors: [Neighbor]?, plan: MultiIndexPlan) {
            queries.withCode(q) { code in
                MultiIndexSearch.nearest(to: code, k: k, levels: levels, codes: codes, pending: pending, budget: budget, kernel: options.kernel)
            }
        }
        let trial = min(n, Self.trialQueries)
        for q in 0..<trial {
            (results[q], plans[q]) = answer(q)
            record(paid: results[q] != nil)
        }
        let paid = (0..<trial).filter { results[$0] != nil }.count
        if n > trial && paid * 4 >= trial {
            let threads = max(1, min(options.threads, (n - trial) / 8))
            results.withUnsafeMutableBufferPointer { out in
                plans.withUnsafeMutableBufferPointer { plansOut in
                    parallelFor(iterations: threads) { worker in
                        var q = trial + worker
                        while q < n {
                            (out[q], plansOut[q]) = answer(q)
                            q += threads
                        }
                    }
                }
            }
        }
        let rest = (0..<n).filter { results[$0] == nil }
        if !rest.isEmpty {
            let batch = queries.rows(rest)
            for (i, found) in HammingSearch.nearest(queries: batch, in: codes, k: k, options: options).enumerated() {
                results[rest[i]] = found
                if plans[rest[i]].method == .multiIndex { plans[rest[i]] = .scanned }
            }
        }
        return (results.map { $0! }, plans)
    }

    /// Every slot within `radius` of `query`, ascending by (distance, slot), through the
    /// tables when they pay, and how it was found.
    package func within(radius: Int, of query: BinaryCode) -> (neighbors: [Neighbor], plan: MultiIndexPlan) {
        precondition(query.bits == codes.bits && radius >= 0 && radius <= codes.bits, "the radius and width are checked where they enter")
        var plan = MultiIndexPlan.scanned
        if triesTables() {
            let found: [Neighbor]?
            (found, plan) = query.words.withUnsafeBufferPointer { q in
                MultiIndexSearch.within(radius: radius, of: q.baseAddress!, levels: levels, codes: codes, pending: pending,
                                        budget: budget, kernel: options.kernel)
            }
            record(paid: found != nil)
            if let found { return (found, plan) }
        }
        return (HammingSearch.within(radius: radius, of: query, in: codes, options: options), plan)
    }
}
