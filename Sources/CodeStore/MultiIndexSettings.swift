import BinaryCodes
import CLMDB
import Foundation

/// How an index keeps multi-index hashing tables. Stored in the index; change it with
/// `CodeIndex.configureMultiIndex(_:)` (`twentyq tables`).
public struct MultiIndexSettings: Codable, Equatable, Sendable {
    /// Keep tables at all.
    public var enabled: Bool
    /// Substrings per code (m); nil chooses m = bits / log2(count) at each rebuild.
    public var substrings: Int?
    /// No tables below this many codes: a scan of a small index takes microseconds.
    public var minimumCount: Int

    public static let defaultMinimumCount = 65_536

    /// Widest codes that get tables unless told otherwise: the tables pay when the k-th
    /// neighbour is near in bits, which holds for short codes. Over 1.38M real text codes they
    /// answer 4.5x faster than the scan at 64 bits and break even at 128; at 256 bits (a million
    /// real vector codes) a forced search through them ran 55x slower than the scan, while
    /// the tables took more disk than the codes 20 times over (docs/BENCHMARKS.md). Wider
    /// indexes can still turn them on (`twentyq tables --enable`), e.g. for near-duplicate
    /// radius searches.
    public static let defaultMaximumBits = 128

    /// The settings of an index of `bits`-bit codes that was never configured.
    public static func defaults(bits: Int) -> MultiIndexSettings {
        MultiIndexSettings(enabled: bits <= defaultMaximumBits)
    }

    public init(enabled: Bool = true, substrings: Int? = nil, minimumCount: Int = MultiIndexSettings.defaultMinimumCount) {
        self.enabled = enabled
        self.substrings = substrings
        self.minimumCount = minimumCount
    }
}

/// What an index's tables look like now (`twentyq info`).
public struct MultiIndexStatus: Codable, Equatable, Sendable {
    public var settings: MultiIndexSettings
    /// Whether tables exist (they do when enabled and the index holds at least
    /// `minimumCount` codes).
    public var built: Bool
    /// Substrings per code (m) and their lengths in the first (largest) level.
    public var substrings: Int
    public var substringBits: [Int]
    /// Codes in the levels' slots: slots `0 ..< builtCount`.
    public var builtCount: Int
    /// Codes in each level, the oldest (largest) first.
    public var levels: [Int]
    /// Codes appended past the last level, which searches compare directly until they get a
    /// level of their own.
    public var unindexed: Int
    /// Unindexed codes that get a level of their own.
    public var maxUnindexed: Int
    /// Codes inside the levels replaced or moved since their level was built, which searches
    /// compare directly until the next full rebuild.
    public var pending: Int
    /// Pending codes that trigger a full rebuild.
    public var maxPending: Int
    /// Bytes of the tables' values (offsets, slots and code copies), beside the codes.
    public var tableBytes: Int
}

/// The tables as one read transaction sees them: views into the memory map (or aligned
/// copies of values LMDB left unaligned), valid until the transaction ends.
struct MultiIndexView {
    let levels: [MultiIndexLevel]
    let pending: UnsafeBufferPointer<UInt32>
    /// Slots covered by the levels: `0 ..< indexedEnd`.
    var indexedEnd: Int { levels.last?.slots.upperBound ?? 0 }
    /// m of the first level, for reports.
    var substrings: Int { levels.first?.layout.substrings.count ?? 0 }
    /// Codes a search compares directly among `count`: pending and unindexed ones.
    func direct(of count: Int) -> Int { pending.count + max(0, count - indexedEnd) }
}
