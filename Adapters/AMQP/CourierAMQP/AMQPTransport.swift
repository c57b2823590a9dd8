import Courier
import Foundation
import Synchronization

/// The `amqp://` / `amqps://` transport: RabbitMQ through librabbitmq.
///
/// One connection, owned by a dedicated thread that makes every librabbitmq call; publishes use
/// publisher confirms with a window of outstanding confirms; each subscription has its own channel and
/// prefetch. A lost connection is detected by socket errors or missed heartbeats and restored by itself:
/// channels, confirms, exchanges, queues, bindings and every subscription. Watch it through ``monitor``.
public final class AMQPTransport: Transport {
    /// The spec's name, or the URL with its password redacted.
    public let name: String
    /// What the options make of this transport (groups yes, per-key order no, priorities with `max-priority`).
    public let capabilities: TransportCapabilities
    /// Connection state, recovery count and events.
    public let monitor = AMQPConnectionMonitor()
    /// The options this transport was made with.
    public let options: AMQPTransportOptions

    private let settings: AMQPConnectionSettings
    private let mailbox: AMQPMailbox
    private let logger: any CourierLogger
    private let phase = Mutex(Phase.created)
    private let threadStarted = Atomic<Bool>(false)
    private let nextConsumerID = Atomic<Int>(0)
    private let stopped = Latch()

    private enum Phase { case created, started, stopped }

    /// Makes an unstarted transport; ``AMQPTransportFactory`` calls this for `amqp://` and `amqps://` specs.
    public init(spec: TransportSpec, options: AMQPTransportOptions, context: TransportContext = TransportContext()) throws {
        let url = spec.url
        let defaultPort = url.scheme == "amqps" ? 5671 : 5672
        name = spec.name
        self.options = options
        capabilities = Self.capabilities(options: options)
        logger = context.logger
        settings = AMQPConnectionSettings(
            transportName: spec.name,
            endpoints: url.endpoints.map { AMQPEndpoint(host: $0.host, port: $0.port ?? defaultPort) },
            user: url.user ?? "guest",
            password: url.password ?? "guest",
            vhost: options.vhost,
            tls: url.scheme == "amqps" ? (options.tls ?? AMQPTLSSettings()) : nil,
            heartbeatSeconds: options.heartbeatSeconds,
            connectTimeout: .seconds(options.connectTimeoutSeconds),
            rpcTimeout: .seconds(max(30, options.heartbeatSeconds * 3)),
            reconnectInitialDelay: .milliseconds(options.reconnectMinMilliseconds),
            reconnectMaxDelay: .milliseconds(options.reconnectMaxMilliseconds)
        )
        mailbox = try AMQPMailbox()
    }

    deinit {
        // Without this, a transport dropped without shutdown() would leave its thread (and the process) running.
        if threadStarted.load(ordering: .acquiring) { mailbox.post(.release) }
    }

    /// No per-key order: group members share a queue round-robin, delayed redeliveries come back behind
    /// later messages, and prefetch lets the next message through before the first is settled (README).
    static func capabilities(options: AMQPTransportOptions) -> TransportCapabilities {
        TransportCapabilities(
            consumerGroups: true,
            orderingPerKey: false,
            persistence: options.persistent,
            nativeDelayedDelivery: false,
            nativeDeadLettering: false,
            priorities: options.maxPriority > 0,
            exactlyOnceDelivery: false,
            maxMessageBytes: options.maxMessageBytes
        )
    }

    /// Starts the connection thread and connects to the first reachable host of the URL. Throws
    /// `unavailable` (retriable) when none answers, or the login error (`authentication-failed`,
    /// `access-refused`, `invalid-configuration` for an unknown vhost); a failed start can be retried.
    public func start() async throws {
        switch phase.withLock({ $0 }) {
        case .stopped: throw CourierError.closed("\(name) was shut down; make a new transport", transport: name)
        case .started: return
        case .created: break
        }
        startThreadOnce()
        try await withCheckedThrowingContinuation { continuation in mailbox.post(.connect(continuation)) }
        phase.withLock { if $0 == .created { $0 = .started } }
    }

    private func startThreadOnce() {
        guard !threadStarted.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let settings = settings, options = options, mailbox = mailbox, monitor = monitor, logger = logger
        let thread = Thread {
            AMQPConnectionWorker(settings: settings, options: options, mailbox: mailbox, monitor: monitor, logger: logger).run()
        }
        thread.name = "courier-amqp"
        thread.start()
    }

    /// Publishes to the topic's exchange and returns once the broker confirmed it. Throws `unroutable`
    /// when no queue takes it, `rejected` on `basic.nack`, `outcome-unknown` when the connection was lost
    /// before the confirm, `unavailable` while reconnecting, `message-too-large` over the size limits.
    public func publish(_ envelope: Envelope) async throws -> PublishConfirmation {
        try requireStarted()
        do {
            try envelope.validate(maxPayloadBytes: options.maxMessageBytes)
        } catch {
            throw error.from(transport: name)
        }
        try AMQPNameLimits.checkPublish(envelope, transport: name)
        let message = AMQPEnvelopeMapping.outgoing(envelope, exchange: envelope.topic, persistent: options.persistent)
        try await withCheckedThrowingContinuation { continuation in
            mailbox.post(.publish(message, topic: envelope.topic, continuation))
        }
        return PublishConfirmation(messageID: envelope.id, transport: name, topic: envelope.topic)
    }

    /// Publishes the envelopes in order, pipelined under the confirm window, and returns once every one is
    /// settled, with each one's outcome in the order given. One hand-off to the connection thread and one
    /// resumption for the whole batch, so this is the fast way to publish many messages; the outcomes are
    /// the errors ``publish(_:)`` throws. An envelope that fails validation fails alone.
    public func publish(contentsOf envelopes: [Envelope]) async -> [Result<PublishConfirmation, CourierError>] {
        do {
            try requireStarted()
        } catch {
            return Array(repeating: .failure(error), count: envelopes.count)
        }
        var outcomes = [Result<PublishConfirmation, CourierError>?](repeating: nil, count: envelopes.count)
        var messages: [AMQPOutgoingMessage] = []
        var positions: [Int] = []
        messages.reserveCapacity(envelopes.count)
        positions.reserveCapacity(envelopes.count)
        for (index, envelope) in envelopes.enumerated() {
            do {
                try envelope.validate(maxPayloadBytes: options.maxMessageBytes)
                try AMQPNameLimits.checkPublish(envelope, transport: name)
                messages.append(AMQPEnvelopeMapping.outgoing(envelope, exchange: envelope.topic, persistent: options.persistent))
                positions.append(index)
            } catch {
                outcomes[index] = .failure(CourierError.wrapping(error, transport: name).from(transport: name))
            }
        }
        if !messages.isEmpty {
            let settled = await withCheckedContinuation { mailbox.post(.publishBatch(messages, $0)) }
            for (position, outcome) in zip(positions, settled) {
                let envelope = envelopes[position]
                outcomes[position] = outcome.map { PublishConfirmation(messageID: envelope.id, transport: name, topic: envelope.topic) }
            }
        }
        return outcomes.map { $0 ?? .failure(.outcomeUnknown("the publish ended without an outcome", transport: name)) }
    }

    /// Declares the topic's exchange and the group's queue (`T.G`, or a private queue without a group) and
    /// consumes it with the subscription's prefetch. The subscription survives reconnects by itself.
    public func subscribe(_ subscription: Subscription) async throws -> DeliveryStream {
        do {
            try subscription.validate()
        } catch {
            throw error.from(transport: name)
        }
        try AMQPNameLimits.checkSubscription(subscription, topology: AMQPTopology(options: options), transport: name)
        try requireStarted()
        let id = nextConsumerID.add(1, ordering: .relaxed).newValue
        let mailbox = mailbox
        let (stream, continuation) = DeliveryStream.make {
            await withCheckedContinuation { mailbox.post(.cancel(consumerID: id, $0)) }
        }
        let request = AMQPConsumerRequest(
            id: id, subscription: subscription, continuation: continuation, settler: AMQPDeliverySettler(consumerID: id, mailbox: mailbox, prefetch: subscription.prefetch)
        )
        do {
            try await withCheckedThrowingContinuation { mailbox.post(.subscribe(request, $0)) }
        } catch {
            continuation.finish()
            throw error
        }
        return stream
    }

    /// Deletes an exchange or queue, for tests and for tidying up topics and groups that are gone.
    /// Declared again if this transport publishes or subscribes to it later.
    public func delete(_ object: AMQPTopologyObject) async throws {
        try requireStarted()
        try await withCheckedThrowingContinuation { mailbox.post(.delete(object, $0)) }
    }

    /// Stops taking publishes, waits up to 5 s for pending confirms, ends every subscription (unsettled
    /// deliveries go back to the broker) and closes the connection. Idempotent.
    public func shutdown() async {
        let wasRunning = phase.withLock { phase -> Bool in
            defer { phase = .stopped }
            return phase != .stopped
        }
        guard wasRunning else { return await stopped.wait() }
        if threadStarted.load(ordering: .acquiring) {
            await withCheckedContinuation { mailbox.post(.shutdown($0)) }
        } else {
            monitor.record(.closed)
        }
        stopped.open()
    }

    /// Returns once ``shutdown()`` has completed.
    public func waitUntilShutdown() async { await stopped.wait() }

    private func requireStarted() throws(CourierError) {
        switch phase.withLock({ $0 }) {
        case .started: return
        case .created: throw CourierError(.notStarted, "\(name) is not started; call start() (or run()) first", transport: name)
        case .stopped: throw CourierError.closed("\(name) was shut down", transport: name)
        }
    }
}
