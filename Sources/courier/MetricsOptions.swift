import Courier
import CourierAMQP

/// `--metrics-port` / `--metrics-host` and `--log-level`, shared by the long-running commands.
enum MetricsOptions {
    static let specs: [OptionSpec] = [
        OptionSpec(name: "metrics-port", valueName: "port", help: "Serve Prometheus metrics at http://HOST:PORT/metrics while running (0 picks a free port)."),
        OptionSpec(name: "metrics-host", valueName: "address", help: "The address the metrics endpoint binds (default: 127.0.0.1)."),
        OptionSpec(name: "log-level", valueName: "level", help: "Log to standard error from this level up: trace, debug, info, warning, error (default: warning)."),
    ]

    /// The observability bundle for one command run, logging to standard error.
    static func observability(_ arguments: ParsedArguments) throws -> Observability {
        let levelName = arguments.value("log-level") ?? "warning"
        guard let level = LogLevel.allCases.first(where: { $0.description == levelName }) else {
            let names = LogLevel.allCases.map(\.description).joined(separator: ", ")
            throw UsageError("'--log-level \(levelName)' is not a level; use one of \(names)")
        }
        return Observability(logger: StandardErrorLogger(minimumLevel: level))
    }

    /// Starts the endpoint when `--metrics-port` was given, and says where on standard error.
    static func startServer(_ arguments: ParsedArguments, observability: Observability, context: CLIContext) throws -> MetricsHTTPServer? {
        guard arguments.value("metrics-port") != nil else {
            if arguments.value("metrics-host") != nil { throw UsageError("'--metrics-host' needs '--metrics-port'") }
            return nil
        }
        let port = try arguments.int("metrics-port", default: 0, in: 0...65535)
        guard let registry = observability.registry else { return nil }
        let server = try MetricsHTTPServer(host: arguments.value("metrics-host") ?? "127.0.0.1", port: port, metrics: registry)
        context.printError("metrics at \(server.url)")
        return server
    }
}

/// Starts every configured transport with the command's logger; shuts the started ones down on failure.
enum ConfiguredTransports {
    /// AMQP transports report their connection recovery to `events`.
    static func start(
        _ configuration: CourierConfiguration, context: CLIContext, logger: any CourierLogger, events: ReliabilityEvents
    ) async throws -> [any Transport] {
        var started: [any Transport] = []
        do {
            for configured in configuration.transports {
                let transport = try context.registry.makeTransport(configured.spec, context: TransportContext(logger: logger))
                if let amqp = transport as? AMQPTransport { events.attach(amqp) }
                try await transport.start()
                started.append(transport)
            }
        } catch {
            for transport in started { await transport.shutdown() }
            throw error
        }
        return started
    }
}

/// Writes reliability events to the command's log: what an operator must notice at warning, the rest at info.
enum EventLogging {
    static func start(_ observability: Observability) -> Task<Void, Never> {
        let events = observability.events.subscribe()
        let logger = observability.logger
        return Task {
            for await event in events {
                switch event {
                case .spooled, .drained, .consumerResumed, .recoveryFinished, .failedBack, .resubscribed: logger.info("\(event)")
                default: logger.warning("\(event)")
                }
            }
        }
    }
}
