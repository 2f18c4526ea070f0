import Foundation

/// A converter program run in a separate process to turn a file into text (`pdftotext` for PDF,
/// `catdoc`, `xls2csv` and `catppt` for legacy Office files): their parsers are large attack
/// surfaces, and a file that crashes or hangs one takes down that process, not the index run.
/// The input is given as a file (standard input or a path), never a pipe, so a converter that
/// stops reading early cannot raise SIGPIPE here; the converter is stopped after `timeLimit`
/// seconds or `textLimit` bytes of text.
enum ExternalConverter {
    /// Why a run gave no text.
    enum Failure: Error, Equatable {
        /// The program could not be started, or the input not written to a temporary file.
        case notStarted
        /// The program ended with this exit status (not 0), or by a signal (`signaled`).
        case failed(status: Int32, signaled: Bool)
        case timedOut(seconds: Double)
        case tooMuchText(limit: Int)
    }

    /// The longest a converter may run over one file: 120 s, or `TWENTYQ_CONVERTER_SECONDS`
    /// (`TWENTYQ_PDF_SECONDS`, its earlier name, is read too). Poppler reads a 500-page manual
    /// in a few seconds; a damaged file can make a parser loop, and one hung file must not hang
    /// an index run of thousands.
    static let timeLimit: Double = {
        let environment = ProcessInfo.processInfo.environment
        for name in ["TWENTYQ_CONVERTER_SECONDS", "TWENTYQ_PDF_SECONDS"] {
            if let value = environment[name].flatMap(Double.init), value > 0 { return value }
        }
        return 120
    }()

    /// The most text taken from one file: 256 MiB, as `Gunzip.defaultLimit` (a book is a few MB).
    static let textLimit = 256 << 20

    /// The path of the program `name` on PATH, or nil.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = String(directory) + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `tool` with `arguments` on standard input: the file at `path` when `data` is its
    /// content as on disk, else `data` (a decompressed `.gz`) through an unlinked temporary
    /// file. Returns what it wrote on standard output (standard error is discarded).
    /// - Throws: `Failure`.
    static func run(_ tool: String, arguments: [String], data: Data, path: String?) throws(Failure) -> Data {
        let input: FileHandle
        if let path, let file = FileHandle(forReadingAtPath: path) {
            input = file
        } else {
            let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            var template = Array((directory + "/twentyq-input-XXXXXX").utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { throw .notStarted }
            unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
            input = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            do {
                try input.write(contentsOf: data)
                try input.seek(toOffset: 0)
            } catch { throw .notStarted }
        }
        defer { try? input.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw .notStarted }
        let stop = Stop(process)
        let seconds = timeLimit
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { stop.kill(.timedOut(seconds: seconds)) }
        var text = Data()
        while let piece = try? output.fileHandleForReading.read(upToCount: 1 << 20), !piece.isEmpty {
            text += piece
            if text.count > textLimit {
                stop.kill(.tooMuchText(limit: textLimit))
                break
            }
        }
        try? output.fileHandleForReading.close()
        process.waitUntilExit()
        if let reason = stop.finish() { throw reason }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw .failed(status: process.terminationStatus, signaled: process.terminationReason != .exit)
        }
        return text
    }

    /// Stops a converter at most once, and never after it has been waited for (its process id
    /// may then belong to another process).
    private final class Stop: @unchecked Sendable {
        private let lock = NSLock()
        private let process: Process
        private var finished = false
        private var reason: Failure?
        init(_ process: Process) { self.process = process }

        func kill(_ why: Failure) {
            lock.withLock {
                guard !finished, reason == nil, process.isRunning else { return }
                reason = why
                Foundation.kill(process.processIdentifier, SIGKILL)
            }
        }

        /// After `waitUntilExit`: why it was stopped, if it was.
        func finish() -> Failure? {
            lock.withLock { finished = true; return reason }
        }
    }
}
