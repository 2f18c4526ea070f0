import Foundation
import ArgumentParser
import PostgresStore
import TwentyQ
import BinaryCodes

@main
struct TwentyQCommand: ParsableCommand {
    /// Exit status: 0 success; 1 a failure (the message says what and what to do); 64 bad
    /// options; 65 bad input data (`InputError`); 74 a damaged index file (MappedFileFault).
    static func main() {
        MappedFileFault.install()
        if let problem = KernelLevel.environmentError { exit(withError: CLIError(description: problem)) }
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch let error as InputError {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            Foundation.exit(InputError.exitStatus)
        } catch let error as IndexError {
            exit(withError: CLIError(description: CLIMessages.describe(error)))
        } catch let error as ModelFileError {
            exit(withError: CLIError(description: CLIMessages.describe(error)))
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "twentyq",
        abstract: "Binary codes in LMDB, searched by Hamming distance.",
        discussion: """
        TwentyQ keeps binary codes (a few hundred yes/no bits per document) in an LMDB index \
        and finds nearest neighbours by exact Hamming distance with popcount kernels on all cores.
        """,
        version: TwentyQVersion.string,
        subcommands: [DemoCommand.self, IndexCommand.self, SearchCommand.self, ExportCommand.self, CopyCommand.self, InfoCommand.self, CheckCommand.self, BackupCommand.self, CompactCommand.self, TablesCommand.self, RemoveCommand.self, TrainCommand.self, EvalCommand.self, VectorEvalCommand.self, ModelCommand.self, ServeCommand.self, BenchCommand.self]
    )
}

/// Options every command that reads an index shares: `--db`, defaulting to the directory that
/// `index` and `search` use, so every command finds the same index without it.
struct IndexOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Index directory, which holds data.mdb (default: ./\(defaultIndexDirectory)).", valueName: "dir"))
    var db: String = defaultIndexDirectory

    func validate() throws { try refusePostgresURL(db) }
}

/// `--db` of the commands that also reach an index in PostgreSQL (`search --code/--like`,
/// `info`).
struct AnyStoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Index directory (default: ./\(defaultIndexDirectory)), or an index in PostgreSQL: postgres://USER@HOST[:PORT]/DATABASE#NAME.", valueName: "dir|url"))
    var db: String = defaultIndexDirectory
}

/// A command that works on index directories only, given a postgres:// URL, says so (instead
/// of taking the URL for a directory name).
func refusePostgresURL(_ db: String) throws {
    if PostgresLocation.isURL(db) {
        throw ValidationError("--db \(db): this command works on an index directory; an index in PostgreSQL is searched with `search --code/--like`, shown with `info`, and moved with `twentyq copy`")
    }
}
