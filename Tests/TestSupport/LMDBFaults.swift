import Foundation
import CMappedFaults

/// Runs `body` on this thread; returns nil, or the signal number when a fault inside LMDB (a
/// damaged data file, see CMappedFaults.h) interrupted it. Everything `body` held at the fault
/// leaks (its frames are not unwound): for fuzzing damaged indexes in process only.
public func catchingLMDBFaults(_ body: @escaping () -> Void) -> Int32? {
    // A box passed by pointer: the C runner calls it; at a fault its frames (and retains) are
    // abandoned, which is why the closure escapes and the box is retained here, not borrowed.
    final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }
    let box = Unmanaged.passRetained(Box(body))
    let sig = twentyq_run_catching_lmdb_faults({ context in
        (Unmanaged<AnyObject>.fromOpaque(context!).takeUnretainedValue() as! Box).body()
    }, box.toOpaque())
    box.release()
    return sig == 0 ? nil : sig
}

/// After a fault that `catchingLMDBFaults` caught: closes the file descriptors and unmaps the
/// memory that the abandoned environment held on files under `directory`, so long fuzzing runs
/// do not run out of descriptors or mappings. Nothing may use that environment afterwards.
public func releaseAbandoned(under directory: String) {
    let fm = FileManager.default
    for entry in (try? fm.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
        guard let fd = Int32(entry), let target = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry),
              target.hasPrefix(directory + "/") else { continue }
        close(fd)
    }
    guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return }
    for line in maps.split(separator: "\n") where line.contains(directory + "/") {
        let range = line.prefix { $0 != " " }.split(separator: "-")
        guard range.count == 2, let lo = UInt(range[0], radix: 16), let hi = UInt(range[1], radix: 16) else { continue }
        munmap(UnsafeMutableRawPointer(bitPattern: lo), Int(hi - lo))
    }
}
