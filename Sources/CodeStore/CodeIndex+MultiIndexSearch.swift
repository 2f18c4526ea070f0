import BinaryCodes
import CLMDB
import Foundation

// Searching a read transaction's snapshot: its codes and tables handed to the one planner
// (`SearchPlanner`), what it chose recorded in `options.report`.
extension CodeIndex {
    /// The k nearest slots to each query (k and width already checked).
    func nearestNeighbors(_ queries: CodeMatrix, k: Int, options: SearchOptions, codes: SlotCodes,
                          txn: LMDBTransaction, counted: Range<Int>? = nil) throws -> [[Neighbor]] {
        try withPlanner(txn, codes: codes, options: options) { planner in
            let (found, plans) = planner.nearest(queries, k: k, counted: counted)
            return (found, plans)
        }
    }

    /// Every slot within `radius` of `query` (radius and width already checked).
    func neighborsWithin(radius: Int, of query: BinaryCode, options: SearchOptions, codes: SlotCodes,
                         txn: LMDBTransaction) throws -> [Neighbor] {
        try withPlanner(txn, codes: codes, options: options) { planner in
            let (found, plan) = planner.within(radius: radius, of: query)
            return (found, [plan])
        }
    }

    /// Calls `body` with the planner over `codes` and the tables as `txn` sees them (not read
    /// at all with `multiIndex: .off`, so damaged tables cannot stop a scan), and records the
    /// plans it returns.
    private func withPlanner<R>(_ txn: LMDBTransaction, codes: SlotCodes, options: SearchOptions,
                                _ body: (SearchPlanner) -> (R, [MultiIndexPlan])) throws -> R {
        try withMultiIndexView(txn, unless: options.multiIndex == .off) { view in
            let planner = SearchPlanner(codes: codes, levels: view?.levels ?? [], pending: view?.pending ?? UnsafeBufferPointer(start: nil, count: 0),
                                        options: options, history: multiIndexHistory)
            let (result, plans) = body(planner)
            options.report?.record(plans, substrings: view?.substrings ?? 0, pending: view?.direct(of: codes.count) ?? 0)
            return result
        }
    }
}
