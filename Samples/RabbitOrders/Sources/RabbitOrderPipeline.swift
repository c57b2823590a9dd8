import Courier
import CourierAMQP
import CourierMemory
import Synchronization

/// Orders published to RabbitMQ with failover to an in-process memory transport, and consumed from both
/// by one handler with an immediate retry, a delayed redelivery (a RabbitMQ retry queue with a TTL, no
/// plugin) and a dead-letter topic.
public final class RabbitOrderPipeline: Sendable {
    public let rabbit: any Transport
    public let fallback: any Transport
    public let producer: Producer
    public let consumer: Consumer
    public let ledger: OrderLedger
    /// The orders topic: a durable topic exchange; group `billing` is the queue `<topic>.billing`.
    public let topic: String

    /// - Parameters:
    ///   - amqpURL: `amqp://user:password@host:5672/`; `declare-groups=billing` keeps orders placed before
    ///     the consumer subscribes.
    ///   - topic: the orders topic (tests pass a fresh one per run).
    ///   - busyAttempts: how often the payment service is busy for orders whose id starts with `flaky`.
    public init(amqpURL: String, topic: String = "orders", busyAttempts: Int = 2) throws {
        let registry = TransportRegistry([AMQPTransportFactory(), MemoryTransportFactory()])
        rabbit = try registry.makeTransport(url: amqpURL)
        fallback = try registry.makeTransport(url: "memory://rabbit-orders-fallback")
        let ledger = OrderLedger(busyAttempts: busyAttempts)
        self.ledger = ledger
        self.topic = topic
        producer = Producer(transports: [rabbit, fallback])
        consumer = try Consumer(
            transports: [rabbit, fallback],
            configuration: ConsumerConfiguration(
                topic: topic,
                group: "billing",
                // One immediate retry, then one redelivery after 300 ms, then the dead-letter topic <topic>.dlq.
                recoverability: .standard(immediateRetries: 1, immediateBackoff: .milliseconds(20), delays: [.milliseconds(300)])
            ),
            idempotencyStore: MemoryIdempotencyStore()
        ) { message in
            try ledger.charge(message.envelope)
        }
    }

    /// Starts the transports and the consumer.
    public func start() async throws {
        try await rabbit.start()
        try await fallback.start()
        Task { await consumer.run() }
    }

    /// Places an order: `amount=<cents>` as the payload, the order id as idempotency and ordering key.
    public func placeOrder(id: String, payload: String) async throws -> PublishReceipt {
        try await producer.publish(Envelope(topic: topic, payload: Array(payload.utf8), idempotencyKey: id, orderingKey: id))
    }

    /// Stops consuming, then the transports.
    public func stop() async {
        await consumer.shutdown()
        await producer.shutdown()
        await rabbit.shutdown()
        await fallback.shutdown()
    }
}

/// The payment service was busy: worth retrying.
public struct PaymentBusy: Error {}

/// The side effect: each order charged once, by idempotency key.
public final class OrderLedger: Sendable {
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
        if order.hasPrefix("flaky"), attempt <= busyAttempts { throw PaymentBusy() }
        state.withLock { $0.charges[order] = cents }
    }

    /// Amount charged per order id.
    public var charges: [String: Int] { state.withLock { $0.charges } }
    /// Handler runs per order id.
    public var attempts: [String: Int] { state.withLock { $0.attempts } }
}
