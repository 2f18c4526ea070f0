import ArgumentParser
import Foundation

/// Bad input data (a JSONL line, a codes file, a vector file that does not fit): the message
/// names the file, the line or row, and what to fix. Exit status 65 (EX_DATAERR), apart from
/// 64 for bad options (ArgumentParser's `ValidationError`) and 1 for other failures.
struct InputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    static let exitStatus: Int32 = 65
}

/// A command that ran and found something wrong (a benchmark whose fast path disagrees with the
/// reference): exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
