import Courier
import CourierKafka
import CourierMemory
import Synchronization

/// Orders published to Kafka with failover to an in-process memory transport, and consumed from both
/// by one handler with retries, a delayed redelivery (Kafka retry topic) and a dead-letter topic.
///
/// In production the fallback would be RabbitMQ (`amqp://...`): only the second URL changes.
public final class OrderPipeline: Sendable {
    public let kafka: any Transport
    public let fallback: any Transport
    public let producer: Producer
    public let consumer: Consumer
    public let ledger: Ledger

    /// - Parameters:
    ///   - kafkaURL: `kafka://host:port...`; short librdkafka timeouts let failover happen in seconds.
    ///   - busyAttempts: how many times the payment service is busy for each order whose id starts with
    ///     `flaky` (to show retries).
    public init(kafkaURL: String, busyAttempts: Int = 2) throws {
        let registry = TransportRegistry([KafkaTransportFactory(), MemoryTransportFactory()])
        kafka = try registry.makeTransport(url: kafkaURL)
        fallback = try registry.makeTransport(url: "memory://orders-fallback")
        let ledger = Ledger(busyAttempts: busyAttempts)
        self.ledger = ledger
        producer = Producer(transports: [kafka, fallback])
        consumer = try Consumer(
            transports: [kafka, fallback],
            configuration: ConsumerConfiguration(
                topic: "orders",
                group: "billing",
                // One immediate retry, then one delayed redelivery, then the dead-letter topic orders.dlq.
                recoverability: .standard(immediateRetries: 1, immediateBackoff: .milliseconds(20), delays: [.milliseconds(300)])
            ),
            idempotencyStore: MemoryIdempotencyStore()
        ) { message in
            try ledger.charge(message.envelope)
        }
    }

    /// Starts the transports and the consumer.
    public func start() async throws {
        try await kafka.start()
        try await fallback.start()
        Task { await consumer.run() }
    }

    /// Places an order: `amount=<cents>` as the payload, the order id as idempotency and ordering key.
    public func placeOrder(id: String, payload: String) async throws -> PublishReceipt {
        try await producer.publish(Envelope(topic: "orders", payload: Array(payload.utf8), idempotencyKey: id, orderingKey: id))
    }

    /// Stops consuming, then the transports.
    public func stop() async {
        await consumer.shutdown()
        await producer.shutdown()
        await kafka.shutdown()
        await fallback.shutdown()
    }
}

/// The payment service was busy: worth retrying.
public struct PaymentServiceBusy: Error {}

/// The side effect: each order charged once, by idempotency key.
public final class Ledger: Sendable {
    private let state = Mutex<(charges: [String: Int], attempts: [String: Int])>(([:], [:]))
    private let busyAttempts: Int

    init(busyAttempts: Int) { self.busyAttempts = busyAttempts }

    /// Charges the order in `envelope`. A payload that is not `amount=<cents>` can never succeed.
    func charge(_ envelope: Envelope) throws {
        let order = envelope.idempotencyKey
        let attempt = state.withLock { state -> Int in
            state.attempts[order, default: 0] += 1
            return state.attempts[order, default: 0]
        }
        guard let text = envelope.text, text.hasPrefix("amount="), let cents = Int(text.dropFirst(7)) else {
            throw UndecodableMessageError("order \(order): payload is not amount=<cents>")
        }
        if order.hasPrefix("flaky"), attempt <= busyAttempts { throw PaymentServiceBusy() }
        state.withLock { $0.charges[order] = cents }
    }

    /// Amount charged per order id.
    public var charges: [String: Int] { state.withLock { $0.charges } }
    /// Handler runs per order id.
    public var attempts: [String: Int] { state.withLock { $0.attempts } }
}
