/// The naive reference: bit by bit, no popcount, no blocking, a full sort. Slow and obviously
/// right; every fast kernel is tested against it, and `bench search` checks a sample of its
/// results with it.
public enum HammingReference {
    /// Hamming distance counted one bit at a time.
    /// - Precondition: both codes have the same width.
    public static func distance(_ a: BinaryCode, _ b: BinaryCode) -> Int {
        precondition(a.bits == b.bits, "width mismatch")
        var d = 0
        for i in 0..<a.bits where a[bit: i] != b[bit: i] { d += 1 }
        return d
    }

    /// The `k` nearest codes of `matrix` to `query`, ascending by (distance, id), id = row.
    public static func nearest(to query: BinaryCode, in matrix: CodeMatrix, k: Int) -> [Neighbor] {
        let all = (0..<matrix.count).map { Neighbor(id: $0, distance: distance(query, matrix[$0])) }
        return Array(all.sorted().prefix(max(0, k)))
    }

    /// The `k` nearest codes by the words of `countedWords` alone, by XOR and a Swift popcount
    /// per word (independent of the C kernels), every distance computed and sorted: the
    /// reference of `HammingSearch.nearest(counted:)`.
    public static func nearest(to query: BinaryCode, in matrix: CodeMatrix, k: Int, countedWords: Range<Int>) -> [Neighbor] {
        let q = query.words
        let all = (0..<matrix.count).map { row in
            let code = matrix[row].words
            return Neighbor(id: row, distance: countedWords.reduce(0) { $0 + (q[$1] ^ code[$1]).nonzeroBitCount })
        }
        return Array(all.sorted().prefix(max(0, k)))
    }

    /// Every code within `radius` of `query`, ascending by (distance, id).
    public static func within(radius: Int, of query: BinaryCode, in matrix: CodeMatrix) -> [Neighbor] {
        (0..<matrix.count).map { Neighbor(id: $0, distance: distance(query, matrix[$0])) }
            .filter { $0.distance <= radius }
            .sorted()
    }
}

/// One search result: a code's id and its Hamming distance to the query. Ordered by distance,
/// then id, which is the order every search returns.
public struct Neighbor: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var id: Int
    public var distance: Int

    public init(id: Int, distance: Int) {
        self.id = id
        self.distance = distance
    }

    public static func < (a: Neighbor, b: Neighbor) -> Bool {
        a.distance != b.distance ? a.distance < b.distance : a.id < b.id
    }

    public var description: String { "(\(id), d=\(distance))" }
}

extension HammingReference {
    /// Distance by XOR and a Swift popcount per word: still independent of the C kernels,
    /// and fast enough to check a sample of a million-code search.
    public static func distance(words a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, count: Int) -> Int {
        var d = 0
        for w in 0..<count { d += (a[w] ^ b[w]).nonzeroBitCount }
        return d
    }

    /// The `k` nearest codes in `blocks` to `query`, by computing every distance and sorting.
    public static func nearest(to query: BinaryCode, blocks: [CodeBlock], k: Int) -> [Neighbor] {
        let words = query.words.count
        var all: [Neighbor] = []
        query.words.withUnsafeBufferPointer { q in
            for block in blocks {
                for i in 0..<block.count {
                    all.append(Neighbor(id: block.firstID + i, distance: distance(words: q.baseAddress!, block.words! + i * words, count: words)))
                }
            }
        }
        all.sort()
        return Array(all.prefix(max(0, k)))
    }
}
