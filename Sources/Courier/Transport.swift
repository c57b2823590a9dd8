/// A transport: one configured connection set to one broker (or the in-process memory broker).
///
/// This is the plugin SPI. A transport is made by a ``TransportFactory`` registered for a URL scheme, and
/// counts as supported once it passes the conformance suite. Its lifecycle is shaped like
/// swift-service-lifecycle's `Service`: ``run()`` starts it and serves until ``shutdown()`` or task
/// cancellation, then drains. Callers that manage the lifecycle themselves use ``start()`` and
/// ``shutdown()`` directly.
public protocol Transport: AnyObject, Sendable {
    /// The configured name, or the redacted URL when no name was given. Safe to log.
    var name: String { get }

    /// What this transport can do; configuration is validated against it at load time.
    var capabilities: TransportCapabilities { get }

    /// Connects (or prepares) the transport. Publishing or subscribing before this throws
    /// ``CourierError/Code/notStarted``.
    func start() async throws

    /// Publishes one message and returns only once the broker has taken responsibility for it
    /// (RabbitMQ publisher confirm, Kafka delivery report with acks=all, memory: stored).
    ///
    /// Throws ``CourierError``: check ``CourierError/isRetriable`` and ``CourierError/mayDuplicate``.
    func publish(_ envelope: Envelope) async throws -> PublishConfirmation

    /// Publishes several messages and returns once every one is settled, with each one's outcome in the
    /// order given. A failure of one does not stop the others. Transports override it to pipeline the
    /// batch with one wake-up for all of it (the per-message hop is what makes a client slow); the default
    /// publishes the messages concurrently through ``publish(_:)``.
    func publish(contentsOf envelopes: [Envelope]) async -> [Result<PublishConfirmation, CourierError>]

    /// Subscribes to a topic, as a member of `subscription.group` when one is set, and yields deliveries
    /// for the caller to settle. At most `subscription.prefetch` deliveries are unsettled at a time.
    func subscribe(_ subscription: Subscription) async throws -> DeliveryStream

    /// Graceful shutdown: stops taking publishes, lets pending confirms settle, ends every subscription
    /// (their unsettled deliveries go back to the broker) and releases connections. Idempotent.
    func shutdown() async

    /// Returns once ``shutdown()`` has completed.
    func waitUntilShutdown() async
}

extension Transport {
    public func publish(contentsOf envelopes: [Envelope]) async -> [Result<PublishConfirmation, CourierError>] {
        await withTaskGroup(of: (Int, Result<PublishConfirmation, CourierError>).self) { group in
            for (index, envelope) in envelopes.enumerated() {
                group.addTask {
                    do {
                        return (index, .success(try await self.publish(envelope)))
                    } catch {
                        return (index, .failure(CourierError.wrapping(error, transport: self.name)))
                    }
                }
            }
            var outcomes = [Result<PublishConfirmation, CourierError>?](repeating: nil, count: envelopes.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.map { $0 ?? .failure(CourierError(.outcomeUnknown, "the publish ended without an outcome", mayDuplicate: true)) }
        }
    }

    /// Starts the transport and serves until ``shutdown()`` is called or the task is cancelled, then
    /// shuts down gracefully — the shape of swift-service-lifecycle's `Service.run()`.
    public func run() async throws {
        try await start()
        await withTaskCancellationHandler {
            await waitUntilShutdown()
        } onCancel: {
            Task { await self.shutdown() }
        }
    }
}

/// What the broker said when it took responsibility for a message.
public struct PublishConfirmation: Sendable, Hashable {
    /// The envelope's id.
    public var messageID: String
    /// The ``Transport/name`` of the transport that confirmed.
    public var transport: String
    /// The topic the message was stored under.
    public var topic: String
    /// The partition, where the broker has partitions.
    public var partition: Int?
    /// The message's position, where the broker reports one (Kafka offset, memory log index).
    public var offset: Int64?

    public init(messageID: String, transport: String, topic: String, partition: Int? = nil, offset: Int64? = nil) {
        self.messageID = messageID
        self.transport = transport
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// A request to consume a topic.
public struct Subscription: Sendable, Hashable {
    /// The topic to consume.
    public var topic: String
    /// Members of one group share the topic's messages; every group gets every message. `nil` makes a
    /// private group for this subscription alone.
    public var group: String?
    /// The most deliveries this subscription holds unsettled at once; the broker sends the next only when
    /// one is settled. 1 gives strict one-at-a-time flow.
    public var prefetch: Int

    public init(topic: String, group: String? = nil, prefetch: Int = 16) {
        self.topic = topic
        self.group = group
        self.prefetch = prefetch
    }

    /// Throws a clear error for an empty topic or a prefetch below 1.
    public func validate() throws(CourierError) {
        if topic.isEmpty {
            throw CourierError(.invalidConfiguration, "subscription topic is empty; name the topic to consume")
        }
        if let group, group.isEmpty {
            throw CourierError(.invalidConfiguration, "subscription group is empty; pass nil for a private subscription or name the group")
        }
        if prefetch < 1 {
            throw CourierError(.invalidConfiguration, "subscription prefetch is \(prefetch); it must be at least 1")
        }
    }
}
