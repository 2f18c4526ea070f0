import CodeStore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// A pool of connections to one PostgreSQL database, shared by the indexes opened in it
/// (`twentyq serve --postgres`): each call of such an index leases a connection for its
/// statement or transaction and gives it back, so concurrent requests run on up to
/// `maximumConnections` server backends at once and wait for one beyond that.
///
/// The pool works while `run()` runs (start it in a task or hand it to a `ServiceGroup`, as
/// `twentyq serve` does); cancelling that task closes the connections.
public final class PostgresPool: Service, Sendable {
    public let location: PostgresLocation
    let client: PostgresClient

    /// - Parameter maximumConnections: the most connections open at once (1 to 1,000).
    /// - Throws: `IndexError.invalidSetting` for a bad maximum.
    public init(_ location: PostgresLocation, maximumConnections: Int = 8) throws {
        guard (1...1_000).contains(maximumConnections) else {
            throw IndexError.invalidSetting("a PostgreSQL pool holds 1 to 1,000 connections (got \(maximumConnections))")
        }
        var configuration = PostgresClient.Configuration(host: location.host, port: location.port, username: location.username,
                                                         password: location.password, database: location.database, tls: .disable)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        self.location = location
        client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "twentyq.postgres.pool"))
    }

    /// Runs the pool until the task running it is cancelled.
    public func run() async {
        await client.run()
    }

    /// The names of the indexes in this database (rows of `tq_indexes`), sorted; none when no
    /// index was ever created here. Needs `run()` running.
    /// - Throws: `IndexError.storage` when the database cannot be reached.
    public func indexNames() async throws -> [String] {
        do {
            return try await client.withConnection { try await Self.indexNames(on: $0) }
        } catch let error as IndexError {
            throw error
        } catch {
            throw IndexError.storage(path: location.description, detail: PostgresCodeIndex.describe(error) + "; is PostgreSQL running there, and may this user log in?")
        }
    }

    /// The names of the indexes at `location`, on a connection of its own (closed after): a
    /// check that the database can be reached, before a pool is started (a pool's `run()` can
    /// be called once only).
    /// - Throws: `IndexError.storage` when the database cannot be reached.
    public static func indexNames(at location: PostgresLocation) async throws -> [String] {
        let connection = try await PostgresCodeIndex.connect(location)
        do {
            let names = try await indexNames(on: connection)
            try? await connection.close()
            return names
        } catch {
            try? await connection.close()
            throw IndexError.storage(path: location.description, detail: PostgresCodeIndex.describe(error))
        }
    }

    private static func indexNames(on connection: PostgresConnection) async throws -> [String] {
        do {
            var names: [String] = []
            let rows = try await connection.query("SELECT name FROM tq_indexes ORDER BY name", logger: Logger(label: "twentyq.postgres"))
            for try await (name,) in rows.decode((String,).self) { names.append(name) }
            return names
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P01" {
            return []
        }
    }
}
