import Foundation
import TwentyQ

/// The indexes under the data directory, each opened once for the life of the server (LMDB
/// forbids opening one environment twice in a process) and shared by every request: reads
/// run in parallel, writes go through the index's `IndexWriter`.
final class IndexRegistry: @unchecked Sendable {
    let directory: String
    private let lock = NSLock()
    private var opened: [String: ServedIndex] = [:]

    init(directory: String) {
        self.directory = directory
    }

    /// Index names: 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'.
    static func checkName(_ name: String) throws {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard (1...64).contains(name.count), !name.hasPrefix("."), name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw APIError.badRequest("an index name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' (got '\(name.prefix(80))')")
        }
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// The names of the indexes on disk, sorted.
    func names() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { (try? Self.checkName($0)) != nil && FileManager.default.fileExists(atPath: path($0) + "/data.mdb") }.sorted()
    }

    /// The index `name`, opened on first use.
    /// - Throws: `APIError` 404 when there is none; the library's errors when it cannot be opened.
    func index(_ name: String) throws -> ServedIndex {
        try Self.checkName(name)
        return try lock.withLock {
            if let served = opened[name] { return served }
            guard FileManager.default.fileExists(atPath: path(name) + "/data.mdb") else { throw APIError.unknownIndex(name) }
            let served = ServedIndex(name: name, index: try AnyIndex.open(at: path(name)))
            opened[name] = served
            return served
        }
    }

    /// Creates the index `name` with `make` (which creates it at the path it is given).
    /// - Throws: `APIError` 409 when it exists.
    func create(_ name: String, _ make: (String) throws -> AnyIndex) throws -> ServedIndex {
        try Self.checkName(name)
        return try lock.withLock {
            guard opened[name] == nil, !FileManager.default.fileExists(atPath: path(name) + "/data.mdb") else {
                throw APIError(.conflict, "already_exists", "an index named '\(name)' exists: DELETE it first, or choose another name")
            }
            let served = ServedIndex(name: name, index: try make(path(name)))
            opened[name] = served
            return served
        }
    }

    /// Deletes the index `name` and its files. Requests that hold it finish on the files they
    /// have open (unlinked files stay readable until closed).
    func delete(_ name: String) async throws {
        let served = try index(name)
        try await served.writer.perform {
            try self.lock.withLock {
                self.opened[name] = nil
                try FileManager.default.removeItem(atPath: self.path(name))
            }
        }
    }
}

/// One open index and its writer.
final class ServedIndex: @unchecked Sendable {
    let name: String
    let index: AnyIndex
    let writer = IndexWriter()
    private let lock = NSLock()
    private var questionsCache: [BitExplanation]?

    init(name: String, index: AnyIndex) {
        self.name = name
        self.index = index
    }

    /// What each bit of a document index's model asks (its top terms), computed on first use.
    func questions(_ model: EncoderModel) -> [BitExplanation] {
        lock.withLock {
            if let questionsCache { return questionsCache }
            let computed = BitExplanation.explain(model, top: 3)
            questionsCache = computed
            return computed
        }
    }
}

/// Writes to one index, one at a time and in arrival order: each request's batch is one LMDB
/// transaction, answered after it commits. A write never blocks the server's threads while
/// another waits: waiting requests are suspended, not parked on LMDB's write lock.
actor IndexWriter {
    func perform<T: Sendable>(_ body: @Sendable () throws -> T) throws -> T {
        try body()
    }
}
