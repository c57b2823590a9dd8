import Courier
import Foundation
import Synchronization

/// `courier consume`: reads a topic through the consumer pipeline (idempotency, breakers, dead letters)
/// and prints one line, or one JSON object, per message, like `kcat -C`.
struct ConsumeCommand: CLICommand {
    let name = "consume"
    let abstract = "Print messages from a topic, one line (or one JSON object) each, settling each with ack."
    let discussion: String? = """
        Subscribes on every configured transport as one consumer group, drops duplicates by idempotency key, \
        and acks each message once it is printed. Says 'ready' on standard error once the group's queues exist, \
        so a 'courier send' started after that is not missed. Stops after --count messages, after --idle-ms \
        without one, or on Ctrl-C (messages not yet printed go back to the broker).
        """

    var options: [OptionSpec] {
        ConfigurationOptions.specs + [
            OptionSpec(name: "topic", valueName: "topic", help: "The topic to read (required)."),
            OptionSpec(name: "group", valueName: "group", help: "Consumer group (default: courier-consume)."),
            OptionSpec(name: "count", valueName: "n", help: "Stop after this many messages."),
            OptionSpec(name: "idle-ms", valueName: "ms", help: "Stop after this long without a message (default: run until Ctrl-C)."),
            OptionSpec(name: "json", valueName: nil, help: "Print one JSON object per message: id, key, headers, payload, transport, partition, offset."),
        ] + MetricsOptions.specs
    }

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        guard let topic = arguments.value("topic"), !topic.isEmpty else {
            throw UsageError("'--topic T' is required; it names what to read")
        }
        let group = arguments.value("group") ?? "courier-consume"
        let limit = arguments.value("count") == nil ? nil : try arguments.int("count", default: 1, in: 1...Int(Int32.max))
        let idle = arguments.value("idle-ms") == nil ? nil : try arguments.int("idle-ms", default: 1, in: 1...86_400_000)
        let json = arguments.flag("json")
        let observability = try MetricsOptions.observability(arguments)
        let eventLog = EventLogging.start(observability)
        defer { eventLog.cancel() }
        let configuration = try ConfigurationOptions.load(arguments, context: context)
        let server = try MetricsOptions.startServer(arguments, observability: observability, context: context)
        let transports = try await ConfiguredTransports.start(configuration, context: context, logger: observability.logger, events: observability.events)
        do {
            try await declareGroup(topic: topic, group: group, on: transports)
        } catch {
            for transport in transports { await transport.shutdown() }
            await server?.shutdown()
            throw error
        }
        let printed = PrintedCount()
        let activity = ChangeSignal()
        let consumer = try Consumer(
            transports: transports,
            configuration: ConsumerConfiguration(
                topic: topic, group: group, concurrency: 1, prefetch: 16, guarantee: .exactlyOnceEffects, shutdownGracePeriod: .seconds(2)
            ),
            idempotencyStore: MemoryIdempotencyStore(),
            logger: observability.logger,
            observability: observability
        ) { message in
            // Past the count: hand the message back to the broker rather than print or drop it.
            guard let number = printed.claim(limit: limit) else { throw CancellationError() }
            context.standardOutput.write((json ? Self.json(message) : Self.line(message)) + "\n")
            activity.bump()
            if number % 1000 == 0 { context.standardError.write("\rconsumed \(number)") }
        }
        // Ctrl-C is caught before 'ready' is said, so an interrupt right after it still stops cleanly.
        let stop = TerminationSignals { Task { await consumer.shutdown() } }
        context.printError("ready: consuming \(topic) as group \(group) on \(transports.map(\.name).joined(separator: ", "))")
        let consuming = Task { await consumer.run() }
        let watcher = Task {
            while !Task.isCancelled {
                let version = activity.version
                if let limit, printed.value >= limit { break }
                if let idle {
                    guard await activity.waitForChange(after: version, timeout: .milliseconds(idle)) else { break }
                } else {
                    await activity.waitForChange(after: version)
                }
            }
            if !Task.isCancelled { await consumer.shutdown() }
        }
        await consuming.value
        watcher.cancel()
        stop.cancel()
        for transport in transports { await transport.shutdown() }
        await server?.shutdown()
        if printed.value >= 1000 { context.standardError.write("\n") }
        context.printError("consumed \(printed.value) message\(printed.value == 1 ? "" : "s") from \(topic)")
        return ExitCode.success
    }

    /// Subscribes and closes once, so the group's queue (RabbitMQ) or membership (Kafka) exists before
    /// 'ready' is printed: what is published after that waits for this group.
    private func declareGroup(topic: String, group: String, on transports: [any Transport]) async throws {
        for transport in transports {
            let stream = try await transport.subscribe(Subscription(topic: topic, group: group, prefetch: 1))
            await stream.close()
        }
    }

    /// The payload as text (invalid UTF-8 shown with replacement characters).
    static func line(_ message: IncomingMessage) -> String {
        String(decoding: message.envelope.payload, as: UTF8.self)
    }

    /// One JSON object per message, keys sorted so the output is stable.
    static func json(_ message: IncomingMessage) -> String {
        let envelope = message.envelope
        var object: [String: Any] = [
            "id": envelope.id,
            "idempotencyKey": envelope.idempotencyKey,
            "topic": envelope.topic,
            "headers": envelope.headers,
            "transport": message.source.transport,
            "timestamp": envelope.timestamp.ISO8601Format(),
            "redeliveries": message.redeliveries,
        ]
        if let text = String(validating: envelope.payload, as: UTF8.self) {
            object["payload"] = text
        } else {
            object["payloadBase64"] = Data(envelope.payload).base64EncodedString()
        }
        if let key = envelope.orderingKey { object["key"] = key }
        if let contentType = envelope.contentType { object["contentType"] = contentType }
        if let correlationID = envelope.correlationID { object["correlationID"] = correlationID }
        if let partition = message.source.partition { object["partition"] = partition }
        if let offset = message.source.offset { object["offset"] = offset }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{\"id\":\"\(envelope.id)\",\"error\":\"not representable as JSON\"}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Counts printed messages and refuses numbers past the limit.
private final class PrintedCount: Sendable {
    private let count = Mutex(0)

    /// The message's number, or nil when `limit` messages were printed already.
    func claim(limit: Int?) -> Int? {
        count.withLock { count in
            if let limit, count >= limit { return nil }
            count += 1
            return count
        }
    }

    var value: Int { count.withLock { $0 } }
}
