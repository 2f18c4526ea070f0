import BinaryCodes
import CLMDB
import Foundation

// Searching through the tables: the store-side planner (scan or tables per query).
extension CodeIndex {
    /// The k nearest slots to each query: through the tables where they exist and
    /// `options.multiIndex` allows, else (and for every query whose budget ran out) by one
    /// batch scan. Records the plans in `options.report`.
    func nearestNeighbors(_ queries: CodeMatrix, k: Int, options: SearchOptions, blocks: [CodeBlock],
                          txn: LMDBTransaction) throws -> [[Neighbor]] {
        try withMultiIndexView(txn, unless: options.multiIndex == .off) { view in
            let n = queries.count
            // In auto mode, recent searches that the tables did not pay for send this one
            // straight to the scan (`MultiIndexHistory`).
            guard let view, n > 0, options.multiIndex != .auto || multiIndexHistory.shouldTry() else {
                let results = try HammingSearch.nearest(queries: queries, blocks: blocks, bits: bits, k: k, options: options)
                options.report?.record(Array(repeating: .scanned, count: n), substrings: view?.substrings ?? 0,
                                       pending: view?.direct(of: blocks.reduce(0) { $0 + $1.count }) ?? 0)
                return results
            }
            let codes = SlotCodes(blocks: blocks, codesPerBlock: codesPerChunk, words: wordsPerCode)
            let budget = options.multiIndex == .always ? Double.infinity : options.multiIndexBudget
            var results = [[Neighbor]?](repeating: nil, count: n)
            var plans = [MultiIndexPlan](repeating: .scanned, count: n)
            func answer(_ q: Int) -> (neighbors: [Neighbor]?, plan: MultiIndexPlan) {
                queries.withCode(q) { code in
                    MultiIndexSearch.nearest(to: code, k: k, levels: view.levels, codes: codes,
                                             pending: view.pending, budget: budget, kernel: options.kernel)
                }
            }
            // A batch tries its first queries alone: when the tables do not pay for most of
            // them, the rest go straight to the batch scan.
            let trial = min(n, 16)
            for q in 0..<trial {
                (results[q], plans[q]) = answer(q)
                if options.multiIndex == .auto { multiIndexHistory.record(paid: results[q] != nil) }
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
                var batch = try CodeMatrix(bits: bits)
                for q in rest { try batch.append(queries[q]) }
                for (i, found) in try HammingSearch.nearest(queries: batch, blocks: blocks, bits: bits, k: k, options: options).enumerated() {
                    results[rest[i]] = found
                    if plans[rest[i]].method == .multiIndex { plans[rest[i]] = .scanned }
                }
            }
            options.report?.record(plans, substrings: view.substrings, pending: view.direct(of: codes.count))
            return results.map { $0! }
        }
    }

    /// Every slot within `radius` of `query`, through the tables when they pay.
    func neighborsWithin(radius: Int, of query: BinaryCode, options: SearchOptions, blocks: [CodeBlock],
                         txn: LMDBTransaction) throws -> [Neighbor] {
        try withMultiIndexView(txn, unless: options.multiIndex == .off) { view in
            if let view, radius >= 0, radius <= bits, options.multiIndex != .auto || multiIndexHistory.shouldTry() {
                let codes = SlotCodes(blocks: blocks, codesPerBlock: codesPerChunk, words: wordsPerCode)
                let budget = options.multiIndex == .always ? Double.infinity : options.multiIndexBudget
                let (found, plan) = query.words.withUnsafeBufferPointer { q in
                    MultiIndexSearch.within(radius: radius, of: q.baseAddress!, levels: view.levels,
                                            codes: codes, pending: view.pending, budget: budget, kernel: options.kernel)
                }
                options.report?.record([plan], substrings: view.substrings, pending: view.direct(of: codes.count))
                if options.multiIndex == .auto { multiIndexHistory.record(paid: found != nil) }
                if let found { return found }
            } else {
                options.report?.record([.scanned], substrings: view?.substrings ?? 0,
                                       pending: view?.direct(of: blocks.reduce(0) { $0 + $1.count }) ?? 0)
            }
            return try HammingSearch.within(radius: radius, of: query, blocks: blocks, bits: bits, options: options)
        }
    }
}
