import Dispatch

/// Runs async work from a synchronous command (ArgumentParser runs `run()` synchronously):
/// the work runs on Swift concurrency's threads while this one waits for it.
func runAsync<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = AsyncOutcome<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// The outcome handed to the waiting thread (written before the semaphore is signalled, read
/// after it is waited for).
private final class AsyncOutcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
