import BinaryCodes
import Foundation

/// A fresh directory under the system temp dir, removed by `remove()`.
public struct TemporaryDirectory {
    public let path: String

    public init(_ label: String = "twentyq") throws {
        path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// `path/name`.
    public func appending(_ name: String) -> String { path + "/" + name }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// `count` random codes of `bits` bits from a seeded stream. With `distinct` > 0 the codes are
/// drawn from a pool of that many, so duplicates (and distance ties) are common.
public func randomMatrix(bits: Int, count: Int, seed: UInt64, distinct: Int = 0) throws -> CodeMatrix {
    var rng = SeededGenerator(seed: seed)
    let pool = try (0..<max(0, distinct)).map { _ in try BinaryCode.random(bits: bits, using: &rng) }
    var matrix = try CodeMatrix(bits: bits)
    for _ in 0..<count {
        try matrix.append(pool.isEmpty ? try BinaryCode.random(bits: bits, using: &rng) : pool[Int(rng.next() % UInt64(pool.count))])
    }
    return matrix
}

/// Codes near a few centres (about `noise` of the bits flipped), so neighbours are close and
/// multi-index tables answer; every tenth code repeats the one before, so distance ties are
/// common.
public func clusteredCodes(bits: Int, count: Int, seed: UInt64, noise: Int, centres: Int = 8) throws -> CodeMatrix {
    var rng = SeededGenerator(seed: seed)
    let middle = try (0..<centres).map { _ in try BinaryCode.random(bits: bits, using: &rng) }
    var matrix = try CodeMatrix(bits: bits)
    for i in 0..<count {
        var words = middle[i % centres].words
        for _ in 0 ..< Int(rng.next() % UInt64(noise + 1)) {
            let b = Int(rng.next() % UInt64(bits))
            words[b / 64] ^= 1 << UInt64(b % 64)
        }
        try matrix.append(i % 10 == 9 ? matrix[i - 1] : BinaryCode(bits: bits, words: words))
    }
    return matrix
}

/// The output of one run of the real `twentyq` binary.
public struct CLIResult {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// The process was ended by a signal (a trap, SIGSEGV, SIGKILL), not by exiting.
    public let signaled: Bool

    public init(status: Int32, stdout: String, stderr: String, signaled: Bool = false) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.signaled = signaled
    }
}

/// Locates the `twentyq` executable SwiftPM built beside the test bundle
/// (override with TWENTYQ_BIN).
public func twentyqBinary() throws -> String {
    if let path = ProcessInfo.processInfo.environment["TWENTYQ_BIN"] { return path }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("twentyq").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "twentyq binary not found near \(exe)"])
}

/// Runs `twentyq args...` to completion.
public func runTwentyQ(_ args: [String]) throws -> CLIResult {
    try startTwentyQ(args).finish()
}

/// A running `twentyq` process. Its standard output and standard error are read on two
/// threads from the start, so a child that writes much to either never blocks on a full pipe.
public final class RunningCLI: @unchecked Sendable {
    public let process: Process
    private let lock = NSLock()
    private var output = Data(), errors = Data()
    private let drained = DispatchGroup()

    init(process: Process, stdout: Pipe, stderr: Pipe) {
        self.process = process
        for (pipe, isError) in [(stdout, false), (stderr, true)] {
            drained.enter()
            Thread.detachNewThread { [self] in
                // Read as it comes, so that a long-running child's first lines can be waited for.
                while true {
                    let data = pipe.fileHandleForReading.availableData
                    if data.isEmpty { break }
                    lock.withLock { if isError { errors.append(data) } else { output.append(data) } }
                }
                drained.leave()
            }
        }
    }

    public var pid: pid_t { process.processIdentifier }

    /// What the process has printed to standard output so far.
    public var outputSoFar: String { lock.withLock { String(decoding: output, as: UTF8.self) } }
    /// What it has printed to standard error so far.
    public var errorsSoFar: String { lock.withLock { String(decoding: errors, as: UTF8.self) } }

    /// Waits until `condition` holds (true) or the process ends or `limit` seconds pass (a
    /// guard against a hung child, not a measure of speed) (false).
    public func waitUntil(limit: Double = 300, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            usleep(20_000)
        }
        return false
    }

    /// Waits until standard output holds a line that `match` accepts and returns it; nil when
    /// the process ends first, or after `limit` seconds (a guard against a hung child, not a
    /// measure of speed).
    public func waitForLine(limit: Double = 300, _ match: (String) -> Bool) -> String? {
        func line() -> String? { outputSoFar.split(separator: "\n").map(String.init).first(where: match) }
        return waitUntil(limit: limit) { line() != nil } ? line() : nil
    }

    /// Waits for the process to end and both pipes to close.
    public func finish() -> CLIResult {
        process.waitUntilExit()
        drained.wait()
        return lock.withLock {
            CLIResult(status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
                      stderr: String(decoding: errors, as: UTF8.self), signaled: process.terminationReason == .uncaughtSignal)
        }
    }

    /// Stops the process (SIGSTOP) and waits until the kernel shows it stopped. Returns false
    /// when the process had already ended. Open no LMDB index it uses while it is stopped: it
    /// may hold LMDB's reader-table lock, and the open would wait for it forever.
    public func suspend() -> Bool {
        guard process.isRunning, kill(pid, SIGSTOP) == 0 else { return false }
        while true {
            guard let state = processState(pid), state != "Z", state != "X" else { return false }
            if state == "T" || state == "t" { return true }
            usleep(200)
        }
    }

    /// Lets a suspended process go on (SIGCONT).
    public func resume() { kill(pid, SIGCONT) }

    /// SIGKILL, then waits for the end. Returns what the process had printed.
    @discardableResult
    public func killNow() -> CLIResult {
        kill(pid, SIGKILL)
        return finish()
    }
}

/// The state letter of a process in /proc/PID/stat (R, S, D, T, Z, ...), nil when it is gone.
func processState(_ pid: pid_t) -> Character? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    return stat[stat.index(after: close)...].first { $0 != " " }
}

/// Starts `twentyq args...` without waiting.
public func startTwentyQ(_ args: [String]) throws -> RunningCLI {
    try startProcess(try twentyqBinary(), args)
}

/// Starts `executable args...` without waiting, its output drained on two threads.
public func startProcess(_ executable: String, _ args: [String]) throws -> RunningCLI {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = args
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    return RunningCLI(process: process, stdout: out, stderr: err)
}

/// Runs `sh -c command` to completion.
public func runShell(_ command: String) throws -> CLIResult {
    try startProcess("/bin/sh", ["-c", command]).finish()
}

/// Parses one JSON object printed by the CLI.
public func parseJSONObject(_ text: String) throws -> [String: Any] {
    let line = text.split(separator: "\n").last.map(String.init) ?? ""
    guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        throw CocoaError(.coderReadCorrupt, userInfo: [NSLocalizedDescriptionKey: "not a JSON object: \(text)"])
    }
    return object
}
