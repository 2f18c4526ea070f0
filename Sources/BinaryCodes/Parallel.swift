import Dispatch

/// Runs `body(0) ..< body(iterations)` on up to `iterations` threads and returns when all
/// are done; with one iteration it runs on the calling thread (no wake-up cost).
///
/// The search code hands the workers borrowed pointers (codes in a memory map, per-thread
/// result lists). Each worker writes only its own slice, and every pointer outlives the call,
/// which is what makes the unchecked `Sendable` wrapper below sound.
public func parallelFor(iterations: Int, _ body: (Int) -> Void) {
    if iterations <= 1 {
        if iterations == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: iterations) { shared.value($0) }
    }
}

struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
