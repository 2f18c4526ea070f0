import BinaryCodes
import TestSupport
import Testing

/// Every kernel build and search path against the bit-by-bit reference.
@Suite struct HammingSearchTests {
    static let kernels = KernelLevel.allCases.filter(\.isSupported)
    static let widths = [1, 63, 64, 65, 128, 192, 256, 320, 384, 512, 768, 1024, 1088, 2048, 4096]

    /// Options that force threads, tiny cache blocks (many pieces) and both split strategies.
    static func stressed(_ kernel: KernelLevel) -> SearchOptions {
        SearchOptions(threads: 2, kernel: kernel, minPairsForThreads: 0, blockBytes: 64)
    }

    @Test(arguments: widths, kernels)
    func nearestMatchesReferenceOnRandomCodes(bits: Int, kernel: KernelLevel) throws {
        let matrix = try randomMatrix(bits: bits, count: 61, seed: UInt64(bits))
        let queries = try randomMatrix(bits: bits, count: 13, seed: UInt64(bits) + 1) // 4-lane groups and a remainder of 1
        for k in [1, 4, 10, 61, 70] {
            for options in [SearchOptions(threads: 1, kernel: kernel), Self.stressed(kernel)] {
                let got = try HammingSearch.nearest(queries: queries, in: matrix, k: k, options: options)
                #expect(got.count == queries.count)
                for q in 0..<queries.count {
                    #expect(got[q] == HammingReference.nearest(to: queries[q], in: matrix, k: k), "k=\(k) q=\(q)")
                }
            }
        }
    }

    /// 64+ queries per call take the AVX2 nibble-split path at 1 to 8 words; other widths and
    /// builds take the plain kernels. Both must match the reference, ties included.
    @Test(arguments: [64, 128, 130, 192, 256, 384, 448, 512, 1024], kernels)
    func largeBatchesMatchReference(bits: Int, kernel: KernelLevel) throws {
        let matrix = try randomMatrix(bits: bits, count: 2500, seed: 31, distinct: 400) // > one 2048-code sub-block
        let queries = try randomMatrix(bits: bits, count: 70, seed: 32)
        for options in [SearchOptions(threads: 1, kernel: kernel), SearchOptions(threads: 2, kernel: kernel, minPairsForThreads: 0)] {
            let got = try HammingSearch.nearest(queries: queries, in: matrix, k: 5, options: options)
            for q in stride(from: 0, to: queries.count, by: 1) {
                let expected = matrix.withBlock { HammingReference.nearest(to: queries[q], blocks: [$0], k: 5) }
                #expect(got[q] == expected, "q=\(q)")
            }
        }
    }

    @Test(arguments: [64, 65, 256, 512], kernels)
    func tiesAreOrderedByAscendingID(bits: Int, kernel: KernelLevel) throws {
        // 300 codes drawn from 5 distinct ones: every distance is shared by dozens of ids.
        let matrix = try randomMatrix(bits: bits, count: 300, seed: 11, distinct: 5)
        let queries = try randomMatrix(bits: bits, count: 19, seed: 12, distinct: 3) // 4-lane groups and a remainder of 3
        for k in [1, 7, 64, 299, 300, 301] {
            for options in [SearchOptions(threads: 1, kernel: kernel), Self.stressed(kernel)] {
                let got = try HammingSearch.nearest(queries: queries, in: matrix, k: k, options: options)
                for q in 0..<queries.count {
                    #expect(got[q] == HammingReference.nearest(to: queries[q], in: matrix, k: k))
                }
            }
        }
    }

    @Test(arguments: kernels)
    func largeKTakesTheCountingPathAndStillMatches(kernel: KernelLevel) throws {
        let matrix = try randomMatrix(bits: 96, count: 700, seed: 5, distinct: 40)
        let queries = try randomMatrix(bits: 96, count: 3, seed: 6)
        for k in [257, 500, 700, 5000] {
            #expect(!HammingSearch.usesLists(k: min(k, 700), total: 700))
            let got = try HammingSearch.nearest(queries: queries, in: matrix, k: k, options: Self.stressed(kernel))
            for q in 0..<queries.count {
                #expect(got[q] == HammingReference.nearest(to: queries[q], in: matrix, k: k))
            }
        }
    }

    /// One query with large k and more threads than queries: the codes are split into shares
    /// (one per thread), counted apart and collected into one list. With 300 codes drawn from 5,
    /// the cut-off distance's ties span the shares, and the lowest ids among them must win.
    @Test(arguments: kernels)
    func oneQuerySplitOverThreadsMatchesReference(kernel: KernelLevel) throws {
        let matrix = try randomMatrix(bits: 1024, count: 300, seed: 21, distinct: 5)
        let query = try randomMatrix(bits: 1024, count: 1, seed: 22)
        let expected = HammingReference.nearest(to: query[0], in: matrix, k: 300)
        let full = HammingReference.nearest(to: query[0], in: matrix, k: 300, countedWords: 4 ..< 16)
        for threads in [2, 3, 4] {
            let options = SearchOptions(threads: threads, kernel: kernel, minPairsForThreads: 0, blockBytes: 1024)
            for k in [257, 270, 299, 300, 301] {
                #expect(!HammingSearch.usesLists(k: min(k, 300), total: 300))
                #expect(try HammingSearch.nearest(queries: query, in: matrix, k: k, options: options)[0] == Array(expected.prefix(k)),
                        "threads \(threads) k \(k)")
                let part = matrix.withSlotCodes { HammingSearch.nearest(queries: query, in: $0, k: k, options: options, counted: 4 ..< 16) }
                #expect(part[0] == Array(full.prefix(k)), "part, threads \(threads) k \(k)")
            }
        }
    }

    /// Part of each code (a typed query counts a text model's query bits alone): every build,
    /// the four-lane and single-query kernels, the nibble-split batch path (70 queries of at most
    /// 8 counted words), the counting path (k > 256), more codes than one 32 KB scratch block
    /// holds (1,365 of 3 words), threads and tiny cache blocks; all against the reference over
    /// the same words.
    @Test(arguments: [(256, 1 ..< 4), (320, 1 ..< 5), (1024, 4 ..< 16), (1024, 0 ..< 12), (1024, 3 ..< 4), (1024, 1 ..< 16), (4096, 1 ..< 63)], kernels)
    func partOfEachCodeMatchesReference(shape: (bits: Int, counted: Range<Int>), kernel: KernelLevel) throws {
        let (bits, counted) = shape
        let matrix = try randomMatrix(bits: bits, count: 1500, seed: UInt64(bits) + 3, distinct: 90)
        let queries = try randomMatrix(bits: bits, count: 70, seed: UInt64(bits) + 4)
        let reference = (0..<70).map { HammingReference.nearest(to: queries[$0], in: matrix, k: 1500, countedWords: counted) }
        for nq in [1, 13, 70] {
            let batch = try CodeMatrix(bits: bits, words: Array(queries.storage.prefix(nq * queries.wordsPerCode)))
            for k in [1, 10, 70, 300, 1500] {
                for options in [SearchOptions(threads: 1, kernel: kernel), Self.stressed(kernel)] {
                    let got = matrix.withSlotCodes { HammingSearch.nearest(queries: batch, in: $0, k: k, options: options, counted: counted) }
                    for q in 0..<nq { #expect(got[q] == Array(reference[q].prefix(k)), "nq=\(nq) k=\(k) q=\(q)") }
                }
            }
        }
        // The whole code as the part is the plain search.
        let whole = matrix.withSlotCodes { HammingSearch.nearest(queries: queries, in: $0, k: 10, counted: 0 ..< BinaryCode.wordCount(bits: bits)) }
        #expect(whole == (try HammingSearch.nearest(queries: queries, in: matrix, k: 10)))
    }

    /// k above 256 over many codes: the lists serve it, and agree with the reference.
    @Test func largeKOverManyCodesTakesTheListsAndStillMatches() throws {
        let matrix = try randomMatrix(bits: 64, count: 120_000, seed: 15, distinct: 5_000)
        let queries = try randomMatrix(bits: 64, count: 2, seed: 16)
        for k in [300, 350] {
            #expect(HammingSearch.usesLists(k: k, total: matrix.count))
            let expected = (0..<queries.count).map { HammingReference.nearest(to: queries[$0], in: matrix, k: k) }
            for kernel in Self.kernels {
                let got = try HammingSearch.nearest(queries: queries, in: matrix, k: k, options: Self.stressed(kernel))
                #expect(got == expected, "k \(k) \(kernel)")
            }
        }
        #expect(!HammingSearch.usesLists(k: HammingSearch.maxListK + 1, total: 100_000_000))
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5, 8, 13])
    func everyCountFromEmptyUpwardsMatches(count: Int) throws {
        let matrix = try randomMatrix(bits: 130, count: count, seed: UInt64(count))
        let queries = try randomMatrix(bits: 130, count: 5, seed: 99)
        for kernel in Self.kernels {
            let got = try HammingSearch.nearest(queries: queries, in: matrix, k: 3, options: Self.stressed(kernel))
            for q in 0..<queries.count {
                #expect(got[q] == HammingReference.nearest(to: queries[q], in: matrix, k: 3))
                #expect(got[q].count == min(3, count))
            }
        }
    }

    @Test func noQueriesGiveNoResults() throws {
        let matrix = try randomMatrix(bits: 64, count: 10, seed: 1)
        #expect(try HammingSearch.nearest(queries: try CodeMatrix(bits: 64), in: matrix, k: 3).isEmpty)
    }

    @Test(arguments: [1, 64, 65, 256, 1024], kernels)
    func radiusMatchesReference(bits: Int, kernel: KernelLevel) throws {
        let matrix = try randomMatrix(bits: bits, count: 150, seed: 21, distinct: 30)
        let queries = try randomMatrix(bits: bits, count: 4, seed: 22)
        for q in 0..<queries.count {
            for radius in Set([0, 1, bits / 4, bits / 2, bits / 2 + 3, bits].map { min($0, bits) }) {
                for options in [SearchOptions(threads: 1, kernel: kernel), Self.stressed(kernel)] {
                    let got = try HammingSearch.within(radius: radius, of: queries[q], in: matrix, options: options)
                    #expect(got == HammingReference.within(radius: radius, of: queries[q], in: matrix), "r=\(radius)")
                }
            }
        }
    }

    @Test func badArgumentsAreRejected() throws {
        let matrix = try randomMatrix(bits: 64, count: 10, seed: 1)
        let queries = try randomMatrix(bits: 64, count: 1, seed: 2)
        #expect(throws: CodeError.invalidK(0)) { try HammingSearch.nearest(queries: queries, in: matrix, k: 0) }
        #expect(throws: CodeError.invalidK(-3)) { try HammingSearch.nearest(queries: queries, in: matrix, k: -3) }
        let wide = try randomMatrix(bits: 128, count: 1, seed: 2)
        #expect(throws: CodeError.widthMismatch(expected: 64, actual: 128)) {
            try HammingSearch.nearest(queries: wide, in: matrix, k: 1)
        }
        #expect(throws: CodeError.invalidRadius(-1, bits: 64)) { try HammingSearch.within(radius: -1, of: queries[0], in: matrix) }
        #expect(throws: CodeError.invalidRadius(65, bits: 64)) { try HammingSearch.within(radius: 65, of: queries[0], in: matrix) }
    }

    @Test func syntheticCodesDependOnlyOnSeedAndIndex() throws {
        let a = try SyntheticCodes.code(index: 12345, bits: 256, seed: 9)
        #expect(a == (try SyntheticCodes.code(index: 12345, bits: 256, seed: 9)))
        #expect(a != (try SyntheticCodes.code(index: 12346, bits: 256, seed: 9)))
        #expect(a != (try SyntheticCodes.code(index: 12345, bits: 256, seed: 10)))
        var rng = SeededGenerator(seed: 1)
        #expect(HammingReference.distance(a, SyntheticCodes.perturbed(a, flips: 25, using: &rng)) == 25)
    }
}
