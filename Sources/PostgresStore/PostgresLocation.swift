import CodeStore
import Foundation

/// A PostgreSQL database, from a `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` URL (the form
/// `psql` and libpq take; `postgresql://` too). TLS is not used: keep the database on the same
/// machine or a private network, or put it behind a TLS tunnel (docs/SCALE.md).
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String

    public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Whether `text` names a PostgreSQL database rather than a directory.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// - Throws: `IndexError.invalidSetting` naming what is missing.
    public init(url text: String) throws {
        guard Self.isURL(text), let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            throw IndexError.invalidSetting("'\(Self.redacted(text))' is not a PostgreSQL URL: write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        guard let user = url.user, !user.isEmpty else {
            throw IndexError.invalidSetting("the PostgreSQL URL names no user: write postgres://USER@\(host)/DATABASE")
        }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw IndexError.invalidSetting("the PostgreSQL URL names no database: write postgres://\(user)@\(host)/DATABASE")
        }
        self.init(host: host, port: url.port ?? 5432, username: user, password: url.password, database: database)
    }

    /// The URL without its password, for messages.
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? text
    }
}
