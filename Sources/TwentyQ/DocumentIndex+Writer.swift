import BinaryCodes
import CodeStore
import Foundation

extension DocumentIndex {
    /// A writer that adds documents as they come, in batches of `batch` (`BatchWriter`): for
    /// documents that are not all in memory at once (a large file read in pieces).
    /// - Throws: `IndexError.invalidSetting` when `batch` is under 1.
    public func writer(batch: Int, threads: Int = SearchOptions.onlineCores,
                       progress: @escaping (Int) -> Void = { _ in }) throws -> BatchWriter {
        try writer(batch: batch, threads: threads, idsChecked: false, progress: progress)
    }

    /// As `writer(batch:threads:progress:)`; with `idsChecked`, the caller has made sure that
    /// the ids it will give are distinct (`twentyq index` checks them all, with their places,
    /// before writing), and the writer keeps no set of them (at a million ids, about 90 MB).
    package func writer(batch: Int, threads: Int = SearchOptions.onlineCores, idsChecked: Bool,
                        progress: @escaping (Int) -> Void = { _ in }) throws -> BatchWriter {
        guard batch >= 1 else { throw IndexError.invalidSetting("a batch must hold at least 1 document (got \(batch))") }
        return BatchWriter(index: self, batch: batch, threads: threads, checksIDs: !idsChecked, progress: progress)
    }

    /// Adds or replaces documents handed to it a few at a time, in batches of `batch` documents,
    /// one transaction each, in the order given; while a batch is written, the next one is
    /// compared with the index and encoded, as `add(_:batch:threads:progress:)` does (which is
    /// this writer given every document at once). Only the batch being filled, the one being
    /// encoded and the one being written are in memory.
    ///
    /// Ids must be distinct across everything a writer is given: an id given twice is refused
    /// (`IndexError.duplicateID`) before the batch that would hold it is written. Any error
    /// stops the writer: the batches before it stay committed (their writes have ended when the
    /// error is thrown), nothing after it is written, and later calls throw the same error. `finish()` writes the last, partial batch and waits for
    /// the writes; a writer dropped without it writes no partial batch (it still waits for a
    /// write under way). `progress` is called on the calling thread with the number of documents
    /// committed so far, after each batch. One thread at a time.
    public final class BatchWriter {
        private let index: DocumentIndex
        /// Documents per transaction.
        public let batch: Int
        private let threads: Int
        private let progress: (Int) -> Void
        private var pending: [Document] = []
        /// The ids given so far; nil when the caller has checked them (`idsChecked`).
        private var seen: Set<String>?
        private var report = AddSummary()
        /// Documents in the batches handed to the background write so far.
        private var submitted = 0
        private let queue = DispatchQueue(label: "twentyq.add.writer")
        private let inFlight = DispatchGroup()
        private let failure = LockedFailure()
        /// The error that stopped the writer, or a note that it has finished.
        private var stopped: Error?

        fileprivate init(index: DocumentIndex, batch: Int, threads: Int, checksIDs: Bool, progress: @escaping (Int) -> Void) {
            self.index = index
            seen = checksIDs ? [] : nil
            self.batch = batch
            self.threads = threads
            self.progress = progress
        }

        /// Never returns while a write is running.
        deinit { inFlight.wait() }

        /// Takes `documents` (in order), writing each batch as it fills.
        /// - Throws: `IndexError.duplicateID` (an id given before, to this writer), `.invalidID`,
        ///   storage errors, or the error that stopped the writer earlier.
        public func add<S: Sequence>(_ documents: S) throws where S.Element == Document {
            try running {
                for document in documents {
                    guard seen?.insert(document.id).inserted != false else { throw IndexError.duplicateID(document.id) }
                    pending.append(document)
                    if pending.count == batch { try flush() }
                }
            }
        }

        /// Writes what is left (a last, partial batch), waits for every write, and returns the
        /// counts of the whole run. The writer takes nothing after it.
        public func finish() throws -> AddSummary {
            try running {
                if !pending.isEmpty { try flush() }
                inFlight.wait()
                if let error = failure.error { throw error }
                if submitted > 0 { progress(submitted) }
            }
            stopped = Finished()
            return report
        }

        /// Runs `body` unless the writer has stopped; an error stops it, once the write under
        /// way (an earlier batch, which stays committed) has ended.
        private func running(_ body: () throws -> Void) throws {
            if let stopped { throw stopped }
            do { try body() } catch {
                inFlight.wait()
                stopped = error
                pending = []
                throw error
            }
        }

        /// Encodes the pending batch, then, once the previous batch is written, hands it to the
        /// background write.
        private func flush() throws {
            let slice = pending
            pending.removeAll(keepingCapacity: true)
            let prepared = try index.prepare(slice, threads: threads)
            inFlight.wait()
            if let error = failure.error { throw error }
            if submitted > 0 { progress(submitted) }
            report += prepared.summary
            submitted += slice.count
            let entries = prepared.entries
            queue.async(group: inFlight) { [store = index.store, failure] in
                do { try store.add(entries) } catch { failure.record(error) }
            }
        }

        /// The error a finished writer gives when it is used again.
        private struct Finished: Error, CustomStringConvertible {
            var description: String { "this batch writer has finished: make a new one (`DocumentIndex.writer(batch:)`)" }
        }
    }
}

/// The first error of a background write, kept under a lock.
private final class LockedFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Error?

    func record(_ error: Error) { lock.withLock { if first == nil { first = error } } }

    var error: Error? { lock.withLock { first } }
}
