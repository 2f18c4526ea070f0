import BinaryCodes
import TestSupport
import Testing

@Suite struct MultiIndexTests {
    func clustered(bits: Int, count: Int, seed: UInt64, noise: Int) throws -> CodeMatrix {
        try clusteredCodes(bits: bits, count: count, seed: seed, noise: noise)
    }

    @Test(arguments: [16, 30, 64, 100, 128, 256])
    func nearestIsExactlyTheScanTiesIncluded(bits: Int) throws {
        for (seed, noise) in [(1 as UInt64, bits / 16), (2, bits / 4), (3, bits)] {
            let matrix = try clustered(bits: bits, count: 300, seed: seed, noise: noise)
            let queries = try clustered(bits: bits, count: 6, seed: seed + 100, noise: noise)
            for m in [nil, 2, 5] as [Int?] {
                let index = MultiIndex(matrix, substrings: m)
                #expect(index.substrings.allSatisfy { $0.length >= 1 && $0.length <= MultiIndex.maxSubstringBits(count: 300) })
                #expect(index.substrings.reduce(0) { $0 + $1.length } == bits)
                let expected = try (0..<queries.count).map { q in try HammingSearch.nearest(queries: CodeMatrix(bits: bits, words: queries[q].words), in: matrix, k: 301)[0] }
                for q in 0..<queries.count {
                    for k in [1, 10, 300, 301] {
                        for budget in [0.5, 1e9] {
                            for kernel in KernelLevel.allCases where kernel.isSupported {
                                let (got, plan) = try index.nearest(to: queries[q], k: k, budget: budget, kernel: kernel)
                                #expect(got == Array(expected[q].prefix(k)),
                                        "bits \(bits) m \(String(describing: m)) k \(k) q \(q) kernel \(kernel) plan \(plan)")
                                if budget > 1e6 { #expect(plan.method == .multiIndex) }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: [32, 64, 128])
    func radiusSearchIsExactlyTheScan(bits: Int) throws {
        let matrix = try clustered(bits: bits, count: 500, seed: 9, noise: bits / 8)
        let queries = try clustered(bits: bits, count: 10, seed: 10, noise: bits / 8)
        for m in [2, 4] {
            let index = MultiIndex(matrix, substrings: m)
            for q in 0..<queries.count {
                for radius in [0, 1, bits / 16, bits / 4, bits] {
                    for kernel in KernelLevel.allCases where kernel.isSupported {
                        let (got, _) = try index.within(radius: radius, of: queries[q], budget: 1e9, kernel: kernel)
                        #expect(got == HammingReference.within(radius: radius, of: queries[q], in: matrix), "radius \(radius) kernel \(kernel)")
                    }
                }
            }
        }
    }

    @Test func nearCodesAreAnsweredByTheTablesAndFarOnesByTheScan() throws {
        let matrix = try randomMatrix(bits: 64, count: 100_000, seed: 4)
        let index = MultiIndex(matrix)
        // A stored code with one bit flipped: found at distance 1 from a few buckets.
        var words = matrix[17].words
        words[0] ^= 1 << 9
        let near = try BinaryCode(bits: 64, words: words)
        let (found, plan) = try index.nearest(to: near, k: 1)
        #expect(plan.method == .multiIndex && plan.candidates < 1000, "\(plan)")
        #expect(found == [Neighbor(id: 17, distance: 1)])
        // The ten nearest of a random query lie far away in random codes: the scan answers.
        var rng = SeededGenerator(seed: 77)
        let far = try BinaryCode.random(bits: 64, using: &rng)
        let (got, farPlan) = try index.nearest(to: far, k: 10)
        #expect(farPlan.method == .scan)
        #expect(got == HammingReference.nearest(to: far, in: matrix, k: 10))
    }

    /// The shell probe kernel (`tq_probe_shell`), every build, against a reference that walks
    /// every entry of the table: widths of 1 to 3 words (the AVX-512 build has its own code for
    /// 1 and 2), ragged and empty buckets, radii 0 to the substring's length, limits from 0 to
    /// every code, and output capacities of 1 to 9 so that the kernel stops and goes on inside
    /// buckets (and near its 8-lane stores).
    @Test(arguments: KernelLevel.allCases.filter(\.isSupported))
    func shellProbeMatchesReference(kernel: KernelLevel) throws {
        for (bits, count) in [(64, 700), (128, 300), (150, 200), (40, 0)] {
            let matrix = try clustered(bits: bits, count: count, seed: UInt64(bits), noise: bits / 6)
            let words = matrix.wordsPerCode
            let layout = MultiIndexLayout(bits: bits, count: max(count, 1), substrings: bits == 150 ? 15 : 6)
            let storage = matrix.storage
            try storage.withUnsafeBufferPointer { all in
                let slots = SlotCodes(single: CodeBlock(words: all.baseAddress, count: count, firstID: 0), bits: bits)
                let buffers = layout.substrings.indices.map { t in
                    UnsafeMutableRawBufferPointer.allocate(byteCount: layout.tableByteCount(t, entries: count, words: words), alignment: 8)
                }
                defer { buffers.forEach { $0.deallocate() } }
                for t in buffers.indices { layout.writeTable(t, codes: slots, slots: 0 ..< count, into: buffers[t].baseAddress!) }
                let level = MultiIndexLevel(layout: layout, slots: 0 ..< count, tables: buffers.indices.map {
                    MultiIndexTable(layout: layout, table: $0, entries: count, words: words, bytes: UnsafeRawPointer(buffers[$0].baseAddress!))
                })
                let queries = try clustered(bits: bits, count: 3, seed: UInt64(bits) + 1, noise: bits / 6)
                for q in 0..<queries.count {
                    let query = queries[q]
                    for t in [0, layout.substrings.count - 1] {
                        let range = layout.substrings[t]
                        let own = query.words.withUnsafeBufferPointer { MultiIndexLayout.substring($0.baseAddress!, range) }
                        for radius in Set([0, 1, 2, range.length]) where radius <= range.length {
                            for limit in [0, bits / 4, bits / 2, bits] {
                                // Reference: buckets by increasing mask, entries by slot within each.
                                var expected: [(mask: UInt32, neighbor: Neighbor)] = []
                                for slot in 0..<count {
                                    let value = MultiIndexLayout.substring(slots.pointer(slot), range)
                                    let d = HammingReference.distance(matrix[slot], query)
                                    if (value ^ own).nonzeroBitCount == radius && d <= limit {
                                        expected.append((value ^ own, Neighbor(id: slot, distance: d)))
                                    }
                                }
                                let ordered = expected.sorted { ($0.mask, $0.neighbor.id) < ($1.mask, $1.neighbor.id) }.map(\.neighbor)
                                let buckets = (0 ..< (1 << range.length)).filter { ($0 as Int).nonzeroBitCount == radius }.count
                                let inShell = (0..<count).filter {
                                    (MultiIndexLayout.substring(slots.pointer($0), range) ^ own).nonzeroBitCount == radius
                                }.count
                                for capacity in [1, 2, 7, 9, 600] {
                                    let got = query.words.withUnsafeBufferPointer {
                                        MultiIndexSearch.shell(radius: radius, table: t, of: level, query: $0.baseAddress!, words: words,
                                                               limit: limit, kernel: kernel, capacity: capacity)
                                    }
                                    #expect(got.found == ordered, "bits \(bits) t \(t) r \(radius) limit \(limit) capacity \(capacity)")
                                    #expect(got.probes == buckets && got.candidates == inShell)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The bucket filter kernel, every build, against the reference: odd widths, an empty
    /// input, limits below, at and above the distances present (ties at the limit included).
    @Test(arguments: KernelLevel.allCases.filter(\.isSupported))
    func filterKernelMatchesReference(kernel: KernelLevel) throws {
        for bits in [1, 63, 64, 65, 128, 200, 256, 320, 1024] {
            let matrix = try randomMatrix(bits: bits, count: 77, seed: UInt64(bits), distinct: 20)
            let query = try randomMatrix(bits: bits, count: 1, seed: UInt64(bits) + 9)[0]
            for limit in [0, bits / 4, bits / 2, bits / 2 + 3, bits] {
                #expect(try HammingSearch.filter(matrix, within: limit, of: query, kernel: kernel)
                        == HammingReference.within(radius: limit, of: query, in: matrix).sorted { $0.id < $1.id }, "bits \(bits) limit \(limit)")
            }
            #expect(try HammingSearch.filter(matrix, within: bits, of: matrix[3], kernel: kernel).count == 77)
            #expect(try HammingSearch.filter(CodeMatrix(bits: bits), within: bits, of: query, kernel: kernel).isEmpty)
        }
    }

    @Test func emptyAndBadInput() throws {
        let empty = MultiIndex(try CodeMatrix(bits: 64))
        var rng = SeededGenerator(seed: 1)
        let query = try BinaryCode.random(bits: 64, using: &rng)
        #expect(try empty.nearest(to: query, k: 3).neighbors.isEmpty)
        #expect(try empty.within(radius: 5, of: query).neighbors.isEmpty)
        #expect(throws: CodeError.invalidK(0)) { try empty.nearest(to: query, k: 0) }
        #expect(throws: CodeError.self) { try empty.nearest(to: try BinaryCode.random(bits: 32, using: &rng), k: 1) }
        // Substrings of 0.8 log2(count) bits: 16 bits for a million codes.
        #expect(MultiIndex.defaultSubstrings(bits: 64, count: 1 << 20) == 4)
        #expect(MultiIndex.defaultSubstrings(bits: 256, count: 1 << 20) == 16)
        #expect(MultiIndex.defaultSubstrings(bits: 64, count: 100_000) == 5)
        #expect(MultiIndex.defaultSubstrings(bits: 16, count: 100) == 2)
    }
}
