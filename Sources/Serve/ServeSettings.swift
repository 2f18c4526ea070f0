import Foundation
import PostgresStore

/// What `twentyq serve` serves and its limits. Every limit answers a request that passes it
/// with a JSON error and a 4xx status naming the limit and its setting.
package struct ServeSettings: Sendable {
    /// The directory whose subdirectories are the indexes, each served under its name (and
    /// whose `models/` holds the models PUT may name); nil: none, only PostgreSQL's indexes.
    package var dataDirectory: String?
    /// A PostgreSQL database whose TwentyQ indexes (rows of `tq_indexes`) are served too
    /// (`--postgres`); nil: none.
    package var postgres: PostgresLocation?
    /// Most connections to PostgreSQL at once (`--postgres-connections`).
    package var postgresConnections = 8
    package var host = "127.0.0.1"
    package var port = 8080
    /// Largest request body (`--max-body`), bytes. Default 16 MiB: about 10,000 documents of
    /// 1.5 KB, or a batch of 1,000 vectors of 1,536 dimensions as JSON text.
    package var maxBodyBytes = 16 << 20
    /// Largest `k` of a search (`--max-k`).
    package var maxK = 1_000
    /// Most documents in one POST and most queries in one search request (`--max-batch`).
    package var maxBatch = 10_000
    /// Seconds a connection may stay idle, in the middle of a request or between requests,
    /// before the server closes it (`--idle-timeout`): slow or stalled clients cannot hold
    /// connections open.
    package var idleTimeoutSeconds = 60
    /// Who may do what; nil: no tokens, allowed only on the loopback address.
    package var tokens: AccessTokens?

    package init(dataDirectory: String?, postgres: PostgresLocation? = nil) {
        self.dataDirectory = dataDirectory
        self.postgres = postgres
    }

    /// Whether `host` is a loopback address (only then may the server run without tokens).
    package static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Checks the settings before the server starts.
    /// - Throws: `ServeError.startup` naming the setting and what to do.
    package func validate() throws {
        guard tokens != nil || Self.isLoopback(host) else {
            throw ServeError.startup("refusing to serve on \(host) without access tokens: anyone who reaches the port could read and change every index; give --tokens FILE (or TWENTYQ_TOKENS), or bind to 127.0.0.1 and put a reverse proxy in front")
        }
        guard (1...65535).contains(port) || port == 0 else { throw ServeError.startup("--port must be between 1 and 65535 (or 0 for any free port), got \(port)") }
        guard maxBodyBytes >= 1024 else { throw ServeError.startup("--max-body must be at least 1024 bytes (got \(maxBodyBytes))") }
        guard maxK >= 1 else { throw ServeError.startup("--max-k must be at least 1 (got \(maxK))") }
        guard maxBatch >= 1 else { throw ServeError.startup("--max-batch must be at least 1 (got \(maxBatch))") }
        guard idleTimeoutSeconds >= 1 else { throw ServeError.startup("--idle-timeout must be at least 1 second (got \(idleTimeoutSeconds))") }
        guard dataDirectory != nil || postgres != nil else {
            throw ServeError.startup("nothing to serve: give --data DIR (a directory of indexes), --postgres URL (a PostgreSQL database), or both")
        }
        guard (1...1_000).contains(postgresConnections) else {
            throw ServeError.startup("--postgres-connections must be 1 to 1,000 (got \(postgresConnections))")
        }
        var isDirectory: ObjCBool = false
        if let dataDirectory, !FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw ServeError.startup("--data \(dataDirectory) is not a directory: create it (mkdir -p \(dataDirectory)) or name the folder that holds your indexes")
        }
    }
}

/// Errors that stop the server from starting.
package enum ServeError: Error, CustomStringConvertible {
    case startup(String)

    package var description: String {
        switch self {
        case .startup(let message): return message
        }
    }
}
