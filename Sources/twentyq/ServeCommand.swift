import ArgumentParser
import Dispatch
import Foundation
import Logging
import PostgresStore
import Serve

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the indexes in a directory over HTTP: a JSON API under /v1 and a search page at /.",
        discussion: """
        Every subdirectory of --data that holds an index is served under its name; PUT \
        /v1/indexes/NAME creates one. With --postgres, the indexes of codes in that PostgreSQL \
        database (made by `copy`, `index --codes` or PUT with "store": "postgres") are served too, \
        through a pool of --postgres-connections connections; a name in both is answered from \
        --data. Without --tokens the server binds to the loopback address \
        only. Stops gracefully on SIGTERM or SIGINT: requests in flight finish and every \
        acknowledged write is committed. docs/SERVE.md has the API, curl lines and a Python client.
        """
    )

    @Option(help: ArgumentHelp("Directory of indexes (each subdirectory one index; models for PUT in DIR/models). Needed unless --postgres is given.", valueName: "dir"))
    var data: String?
    @Option(help: ArgumentHelp("Also serve the indexes of codes in this PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.", valueName: "url"))
    var postgres: String?
    @Option(help: "Most connections to PostgreSQL at once (requests beyond wait for one).") var postgresConnections = 8
    @Option(help: "Address to bind: 127.0.0.1 (default) serves this machine only; any other needs --tokens.") var host = "127.0.0.1"
    @Option(help: "Port; 0 picks a free one (printed when listening).") var port = 8080
    @Option(help: ArgumentHelp("Access tokens, one per line: TOKEN read|write [INDEX,...] (default: $TWENTYQ_TOKENS, lines separated by ';').", valueName: "file"))
    var tokens: String?
    @Option(help: "Largest request body, bytes.") var maxBody = 16 << 20
    @Option(help: "Largest k of a search.") var maxK = 1_000
    @Option(help: "Most documents in one POST, and most queries in one search request.") var maxBatch = 10_000
    @Option(help: "Seconds a connection may stay idle before it is closed.") var idleTimeout = 60
    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level")) var logLevel = "info"

    func run() throws {
        guard data != nil || postgres != nil else {
            throw ValidationError("give --data DIR (a directory of indexes), --postgres URL (a PostgreSQL database), or both")
        }
        var settings = ServeSettings(dataDirectory: data.map { ($0 as NSString).standardizingPath },
                                     postgres: try postgres.map { try PostgresLocation(url: $0) })
        settings.postgresConnections = postgresConnections
        settings.host = host
        settings.port = port
        settings.maxBodyBytes = maxBody
        settings.maxK = maxK
        settings.maxBatch = maxBatch
        settings.idleTimeoutSeconds = idleTimeout
        if let tokens {
            guard let text = try? String(contentsOfFile: tokens, encoding: .utf8) else {
                throw ValidationError("--tokens \(tokens): cannot read the file")
            }
            settings.tokens = try AccessTokens(parsing: text, source: tokens)
        } else if let text = ProcessInfo.processInfo.environment["TWENTYQ_TOKENS"], !text.isEmpty {
            settings.tokens = try AccessTokens(parsing: text, source: "TWENTYQ_TOKENS")
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical (got '\(logLevel)')")
        }
        // Logs go to standard error; standard output carries the one "listening" line.
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "twentyq.serve")
        logger.logLevel = level
        try settings.validate()

        do {
            try runAsync { [settings, logger] in
                try await TwentyQServer.run(settings, logger: logger) { host, port in
                    // One line on standard output, written at once (a pipe does not flush print's buffer).
                    FileHandle.standardOutput.write(Data("twentyq serve: listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port)\n".utf8))
                }
            }
        } catch {
            throw CLIError(description: "serve: \(error)")
        }
    }
}

