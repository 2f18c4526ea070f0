import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: fill an index with random codes, time exact search.",
        discussion: "Tools/bench/ compares these figures with FAISS in the same run; see docs/BENCHMARKS.md.",
        subcommands: [BenchIndexCommand.self, BenchSearchCommand.self, BenchEncodeCommand.self, BenchVectorsCommand.self, BenchQueryCommand.self, BenchPostgresCommand.self]
    )
}
