import Foundation

/// A one-line progress display on standard error, drawn only when it is a terminal and
/// redrawn at most ten times a second. Pipes and CI logs get nothing.
struct Progress {
    let total: Int
    let label: String
    /// Shown after the counts ("MiB"), or nothing for counts of items.
    let unit: String
    private let enabled = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var lastDraw = Date.distantPast

    init(total: Int, label: String, unit: String = "") {
        self.total = total
        self.label = label
        self.unit = unit.isEmpty ? "" : " " + unit
    }

    mutating func update(_ done: Int) {
        guard enabled else { return }
        let now = Date()
        guard done >= total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let width = 30, filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let line = String(format: "\r%@ [%@] %d/%d%@  %.0f%@/s  ETA %.0fs ", label, bar, done, total, unit, rate, unit, eta)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}

/// A line on standard error saying which stage of a long command has begun ("indexing 1,400
/// documents"), drawn only on a terminal: the first sign of life within a second for commands
/// whose stages are single library calls (eval, tables, benchmarks).
enum Stage {
    static let enabled = isatty(STDERR_FILENO) != 0

    static func begin(_ what: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\(what) ...\n".utf8))
    }
}
