import Foundation

/// The text of a PDF file, by Poppler's `pdftotext` (Debian and Ubuntu: poppler-utils; macOS:
/// `brew install poppler`), run as a separate process: PDF parsing is a large attack surface,
/// and a PDF that crashes or hangs the parser then takes down that process, not the index run.
/// Text comes out in reading order, UTF-8, pages separated by form feeds (white space to the
/// tokenizer).
public enum PDFText {
    /// Why a PDF gave no text.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// `pdftotext` is not on PATH.
        case toolMissing
        /// `pdftotext` refused the file (exit status 1: damaged, or encrypted with a password;
        /// 3: its permissions forbid copying text; other: another failure).
        case unreadable(status: Int32)
        /// `pdftotext` ran longer than `timeLimit` seconds and was stopped.
        case timedOut(seconds: Double)
        /// `pdftotext` wrote more than `textLimit` bytes and was stopped.
        case tooMuchText(limit: Int)

        public var description: String {
            switch self {
            case .toolMissing:
                return "PDF files are read by pdftotext, which is not installed: install poppler-utils (apt-get install poppler-utils; macOS: brew install poppler)"
            case .timedOut(let seconds):
                return "pdftotext took more than \(Int(seconds)) s over this PDF and was stopped (a damaged file can make it loop; "
                    + "for a PDF that is only slow, set TWENTYQ_PDF_SECONDS higher)"
            case .tooMuchText(let limit):
                return "pdftotext wrote more than \(limit >> 20) MiB of text for this PDF and was stopped"
            case .unreadable(let status):
                switch status {
                case 1: return "pdftotext cannot open this PDF (damaged, or encrypted with a password)"
                case 3: return "this PDF's permissions forbid copying its text"
                case -1: return "pdftotext could not be started, or its input not written to a temporary file (TMPDIR)"
                default: return "pdftotext failed on this PDF (exit status \(status))"
                }
            }
        }
    }

    /// True when `path` (lower-cased) ends in ".pdf" or `data` begins as a PDF does ("%PDF-").
    public static func isPDF(_ path: String, _ data: Data) -> Bool {
        path.hasSuffix(".pdf") || data.starts(with: Array("%PDF-".utf8))
    }

    /// The longest `pdftotext` may run over one PDF: 120 s, or `TWENTYQ_PDF_SECONDS`. Poppler
    /// reads a 500-page manual in a few seconds; a damaged file can make it loop, and one hung
    /// PDF must not hang an index run of thousands.
    public static let timeLimit: Double = {
        if let value = ProcessInfo.processInfo.environment["TWENTYQ_PDF_SECONDS"].flatMap(Double.init), value > 0 { return value }
        return 120
    }()

    /// The most text taken from one PDF: 256 MiB, as `Gunzip.defaultLimit` (a book is a few MB).
    public static let textLimit = 256 << 20

    /// The path of `pdftotext` on PATH, looked up once per process.
    public static let tool: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = String(directory) + "/pdftotext"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    /// The text of a PDF: the file at `path` when `data` is its content as on disk, else
    /// `data` (a `.pdf.gz` decompressed) through an unlinked temporary file. Either is given
    /// to `pdftotext` as its standard input, a file, never a pipe: a pdftotext that stops
    /// reading early cannot raise SIGPIPE in this process.
    /// - Throws: `Failure`.
    public static func extract(_ data: Data, path: String?) throws(Failure) -> String {
        guard let tool else { throw .toolMissing }
        let input: FileHandle
        if let path, let file = FileHandle(forReadingAtPath: path) {
            input = file
        } else {
            let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            var template = Array((directory + "/twentyq-pdf-XXXXXX").utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { throw .unreadable(status: -1) }
            unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
            input = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            do {
                try input.write(contentsOf: data)
                try input.seek(toOffset: 0)
            } catch { throw .unreadable(status: -1) }
        }
        defer { try? input.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["-enc", "UTF-8", "-q", "-", "-"]
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw .unreadable(status: -1) }
        let stop = Stop(process)
        DispatchQueue.global().asyncAfter(deadline: .now() + timeLimit) { stop.kill(.timedOut(seconds: timeLimit)) }
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
            throw .unreadable(status: process.terminationReason == .exit ? process.terminationStatus : 99)
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Stops a pdftotext at most once, and never after it has been waited for (its process id
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
