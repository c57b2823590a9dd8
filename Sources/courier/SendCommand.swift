import Courier
import CourierSQLite
import Foundation

/// `courier send`: publishes messages through the reliability pipeline (retry, breakers, failover, spool),
/// one per argument or one per line of standard input, like `kcat -P`.
struct SendCommand: CLICommand {
    let name = "send"
    let abstract = "Publish messages (one per argument, or one per line of standard input) through the reliability pipeline."
    let discussion: String? = """
        Transports come from --transport (repeat for failover order) or --config. Each message is confirmed by \
        the first transport that takes it, with retries and circuit breakers; with --spool, messages no transport \
        takes wait in that SQLite file and are relayed while this command runs or by the next run with the same \
        spool. The caller's W3C trace context can be given with --header traceparent=... . Prints nothing on \
        standard output; progress and a summary go to standard error. Ctrl-C (or SIGTERM) stops after the \
        message being sent and still prints the summary. Exits 1 if a message could not be sent or spooled.
        """

    /// Where lines come from when no message is given as an argument (standard input by default).
    var readLine: @Sendable () -> String? = { Swift.readLine(strippingNewline: true) }

    var options: [OptionSpec] {
        ConfigurationOptions.specs + [
            OptionSpec(name: "topic", valueName: "topic", help: "The topic to publish to (required)."),
            OptionSpec(name: "key", valueName: "key", help: "Ordering key: messages with one key keep their order (Kafka partition key)."),
            OptionSpec(name: "header", valueName: "name=value", help: "A header on every message (repeatable).", repeatable: true),
            OptionSpec(name: "idempotency-key", valueName: "key", help: "The business key consumers deduplicate on (one message only)."),
            OptionSpec(name: "content-type", valueName: "type", help: "Content type of every message, such as application/json."),
            OptionSpec(name: "spool", valueName: "path", help: "SQLite spool for messages no transport takes (default: $\(SpoolSettings.pathVariable))."),
        ] + MetricsOptions.specs
    }

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        guard let topic = arguments.value("topic"), !topic.isEmpty else {
            throw UsageError("'--topic T' is required; it names where the messages go")
        }
        let headers = try Self.headers(arguments.all("header"))
        let idempotencyKey = arguments.value("idempotency-key")
        if idempotencyKey != nil, arguments.positionals.count > 1 {
            throw UsageError("'--idempotency-key' names one operation, but \(arguments.positionals.count) messages were given: consumers would keep only one; send one message per run, or leave the key out")
        }
        let observability = try MetricsOptions.observability(arguments)
        let eventLog = EventLogging.start(observability)
        defer { eventLog.cancel() }
        let configuration = try CourierConfiguration.load(
            from: ConfigurationSources(
                configFile: arguments.value("config"), transportURLs: arguments.all("transport"),
                spoolPath: arguments.value("spool"), environment: context.environment
            ),
            registry: context.registry
        )
        let server = try MetricsOptions.startServer(arguments, observability: observability, context: context)
        let transports = try await ConfiguredTransports.start(configuration, context: context, logger: observability.logger, events: observability.events)
        var spool: SQLiteSpool?
        do {
            if let settings = configuration.spool {
                spool = try await SQLiteSpool.open(path: settings.path, limits: .init(maxMessages: settings.maxMessages, maxBytes: settings.maxBytes))
            }
        } catch {
            for transport in transports { await transport.shutdown() }
            await server?.shutdown()
            throw error
        }
        let producer = Producer(
            transports: transports, configuration: configuration.producer, spool: spool, logger: observability.logger, observability: observability
        )
        let relay = Task { try await producer.run() }
        var tally = Tally()
        var failure: (any Error)?
        let makeEnvelope = { (text: String) in
            Envelope(
                topic: topic, payload: Array(text.utf8), idempotencyKey: idempotencyKey, orderingKey: arguments.value("key"),
                headers: headers, contentType: arguments.value("content-type")
            )
        }
        let messages = MessageLines(positionals: arguments.positionals, readLine: readLine)
        let stopSignals = TerminationSignals { messages.stop() }
        defer { stopSignals.cancel() }
        for await text in messages {
            if idempotencyKey != nil, tally.total == 1 {
                failure = UsageError("'--idempotency-key' names one operation, but standard input holds more than one message: consumers would keep only the first; send one message per run, or leave the key out")
                break
            }
            do {
                let receipt = try await producer.publish(makeEnvelope(text))
                tally.note(receipt)
                if tally.total % 1000 == 0 { context.standardError.write("\rsent \(tally.total)") }
            } catch {
                failure = error
                break
            }
        }
        if tally.total >= 1000 { context.standardError.write("\n") }
        await producer.shutdown()
        _ = try? await relay.value
        let spooledLeft = producer.statistics.spooled - producer.statistics.drainedFromSpool
        await spool?.close()
        for transport in transports { await transport.shutdown() }
        await server?.shutdown()
        context.printError(tally.summary(topic: topic, spooledLeft: spooledLeft, spoolPath: configuration.spool?.path))
        if let failure { throw failure }
        return ExitCode.success
    }

    /// Parses `name=value` pairs; a reserved `courier-` name is refused, since Courier writes those itself.
    static func headers(_ pairs: [String]) throws -> [String: String] {
        var headers: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw UsageError("'--header \(pair)' must look like name=value")
            }
            let name = String(pair[..<equals])
            guard !CourierHeader.isReserved(name) else {
                throw UsageError("'--header \(name)' is in Courier's reserved namespace (\(CourierHeader.prefix)*); pick another name")
            }
            headers[name] = String(pair[pair.index(after: equals)...])
        }
        return headers
    }

    private struct Tally {
        var total = 0
        var spooled = 0
        var byTransport: [String: Int] = [:]

        mutating func note(_ receipt: PublishReceipt) {
            total += 1
            if let transport = receipt.transport { byTransport[transport, default: 0] += 1 } else { spooled += 1 }
        }

        func summary(topic: String, spooledLeft: Int, spoolPath: String?) -> String {
            var text = "sent \(total) message\(total == 1 ? "" : "s") to \(topic)"
            let confirmed = byTransport.sorted { $0.key < $1.key }.map { "\($0.value) confirmed by \($0.key)" }
            if !confirmed.isEmpty { text += ": " + confirmed.joined(separator: ", ") }
            if spooled > 0 { text += (confirmed.isEmpty ? ": " : ", ") + "\(spooled) spooled" }
            if spooledLeft > 0, let spoolPath { text += "; \(spooledLeft) still wait in \(spoolPath) for the next run with this spool" }
            return text
        }
    }
}
