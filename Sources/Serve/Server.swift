import Foundation
import Hummingbird
import Logging
import Metrics
import PostgresStore
import Prometheus
import ServiceLifecycle

/// `twentyq serve`: the routes on Hummingbird, metrics for Prometheus, and a graceful shutdown
/// on SIGTERM or SIGINT (the server stops accepting connections, requests in flight finish,
/// and every write they acknowledged is committed).
package enum TwentyQServer {
    /// Runs until SIGTERM or SIGINT. `onListening` gets the bound address and port (the free
    /// port chosen for port 0) once the server accepts connections.
    /// - Throws: `ServeError.startup` for settings that cannot serve; binding errors.
    package static func run(_ settings: ServeSettings, logger: Logger,
                            onListening: @escaping @Sendable (String, Int) -> Void) async throws {
        try settings.validate()
        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics))

        let router = Router()
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(ErrorJSONMiddleware())
        router.middlewares.add(LogRequestsMiddleware(.debug, redactHeaders: [.authorization]))
        let pool = try settings.postgres.map { try PostgresPool($0, maximumConnections: settings.postgresConnections) }
        if let pool {
            // Reach the database before listening: a wrong URL or a server that is down stops
            // the start with PostgreSQL's words, not the first request.
            let names = try await PostgresPool.indexNames(at: pool.location)
            logger.info("serving PostgreSQL \(pool.location): \(names.count) indexes")
        }
        Routes(settings: settings, registry: IndexRegistry(directory: settings.dataDirectory, pool: pool),
               metricsText: { metrics.emitToBuffer() }).add(to: router)
        let host = settings.host
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(settings.idleTimeoutSeconds)))),
            configuration: .init(address: .hostname(host, port: settings.port), serverName: "twentyq"),
            services: pool.map { [$0] } ?? [],
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? settings.port) },
            logger: logger
        )
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}
