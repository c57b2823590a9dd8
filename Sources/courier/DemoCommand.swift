import Courier
import CourierMemory
import Synchronization

/// `courier demo`: a publish/consume round on the memory transport through scripted faults, with a
/// summary that counts every message.
struct DemoCommand: CLICommand {
    let name = "demo"
    let abstract = "Run a publish/consume round through the memory transport with scripted faults; print a summary."
    let discussion: String? = """
        Publishes messages with ordering keys to memory://demo while the broker fails publishes, goes down and \
        comes back, duplicates a delivery, and a handler fails once. Two group members consume; duplicates \
        are removed by idempotency key. Exits 1 if any message is lost or unexpected.
        """
    let options: [OptionSpec] = [
        OptionSpec(name: "messages", valueName: "count", help: "How many messages to publish (default: 20)."),
    ]

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        let count = try arguments.int("messages", default: 20, in: 4...100_000)
        let clock = SystemClock()
        let started = clock.now()
        let brokers = MemoryBrokers()
        var registry = context.registry
        registry.register(MemoryTransportFactory(brokers: brokers))
        let transport = try registry.makeTransport(url: "memory://demo", context: TransportContext(clock: clock))
        guard let broker = brokers.existingBroker(named: "demo") else {
            throw CourierError(.fatal, "the demo's memory broker was not created")
        }
        try await transport.start()
        let consumer = DemoConsumer(failingOnce: "order-\(count / 3)")
        let stream = try await transport.subscribe(Subscription(topic: "orders", group: "demo-workers", prefetch: 4))
        let second = try await transport.subscribe(Subscription(topic: "orders", group: "demo-workers", prefetch: 4))
        let workers = [stream, second].map { deliveries in Task { try await consumer.consume(deliveries) } }

        let publisher = DemoPublisher(transport: transport, clock: clock)
        broker.inject(.failPublishes(count: 2, retriable: true))
        broker.inject(.duplicateDeliveries(count: 1))
        for index in 0..<count {
            if index == count / 2 {
                broker.inject(.down)
                Task {
                    try await clock.sleep(for: .milliseconds(30))
                    broker.inject(.up)
                }
            }
            try await publisher.publish(Envelope(
                topic: "orders",
                payload: Array("order \(index)".utf8),
                id: "order-\(index)",
                orderingKey: "customer-\(index % 3)"
            ))
        }
        let expected = Set((0..<count).map { "order-\($0)" })
        let finished = await consumer.waitForAll(expected, clock: clock, inactivity: .seconds(5))
        await transport.shutdown()
        for worker in workers { _ = await worker.result }

        let outcome = consumer.outcome
        let lost = expected.subtracting(outcome.handled)
        let unexpected = outcome.handled.subtracting(expected)
        let elapsed = clock.now() - started
        context.print("Courier demo: memory://demo, topic orders, group demo-workers (2 members)")
        context.print(row("published", "\(publisher.confirmed) confirmed of \(count)"))
        context.print(row("publish retries", "\(publisher.retries) (2 injected failures, \(publisher.retries - 2) while the broker was down)"))
        context.print(row("handled", "\(outcome.handled.count) unique messages"))
        context.print(row("redelivered", "\(outcome.requeued) (a handler failed once; nack + requeue)"))
        context.print(row("duplicates removed", "\(outcome.duplicates) (the injected duplicate and redeliveries after the outage; caught by idempotency key)"))
        context.print(row("outage", "broker down for 30 ms mid-run; \(outcome.staleSettlements) in-flight deliveries returned and came again"))
        context.print(row("order per key", outcome.orderViolations == 0 ? "kept" : "\(outcome.orderViolations) violations"))
        context.print(row("lost", "\(lost.count)"))
        context.print(row("unexpected", "\(unexpected.count)"))
        context.print(row("elapsed", "\(elapsed.formatted(.units(allowed: [.milliseconds], width: .abbreviated)))"))
        let ok = finished && lost.isEmpty && unexpected.isEmpty && outcome.orderViolations == 0
        context.print(ok ? "Result: OK, every message handled exactly once." : "Result: FAILED")
        return ok ? ExitCode.success : ExitCode.failure
    }

    private func row(_ label: String, _ value: String) -> String {
        "  " + label.padding(toLength: 20, withPad: " ", startingAt: 0) + value
    }
}

/// Publishes with a small fixed retry loop: retriable errors are retried with a doubling backoff.
private final class DemoPublisher: Sendable {
    let transport: any Transport
    let clock: any CourierClock
    private let counts = Mutex((confirmed: 0, retries: 0))

    init(transport: any Transport, clock: any CourierClock) {
        self.transport = transport
        self.clock = clock
    }

    var confirmed: Int { counts.withLock { $0.confirmed } }
    var retries: Int { counts.withLock { $0.retries } }

    func publish(_ envelope: Envelope) async throws {
        var backoff = Duration.milliseconds(5)
        for attempt in 1...8 {
            do {
                _ = try await transport.publish(envelope)
                counts.withLock { $0.confirmed += 1 }
                return
            } catch let error as CourierError where error.isRetriable && attempt < 8 {
                counts.withLock { $0.retries += 1 }
                try await clock.sleep(for: backoff)
                backoff *= 2
            }
        }
    }
}

/// Two members share this consumer: it deduplicates by idempotency key, fails one message once, and
/// checks per-key order.
private final class DemoConsumer: Sendable {
    struct Outcome: Sendable {
        var handled: Set<String> = []
        var duplicates = 0
        var requeued = 0
        var orderViolations = 0
        var lastIndexPerKey: [String: Int] = [:]
        var failedOnce = false
        var staleSettlements = 0
    }

    private let failingID: String
    private let state = Mutex(Outcome())

    init(failingOnce id: String) { failingID = id }

    var outcome: Outcome { state.withLock { $0 } }

    func consume(_ deliveries: DeliveryStream) async throws {
        for try await delivery in deliveries {
            let envelope = delivery.envelope
            let action = state.withLock { state -> SettleAction in
                if envelope.id == failingID, !state.failedOnce {
                    state.failedOnce = true
                    state.requeued += 1
                    return .requeue
                }
                guard state.handled.insert(envelope.idempotencyKey).inserted else {
                    state.duplicates += 1
                    return .ack
                }
                let index = Int(envelope.id.split(separator: "-").last ?? "") ?? -1
                if let key = envelope.orderingKey {
                    if let previous = state.lastIndexPerKey[key], previous > index { state.orderViolations += 1 }
                    state.lastIndexPerKey[key] = index
                }
                return .ack
            }
            do {
                try await delivery.settle(action)
            } catch let error as CourierError where error.code == .invalidSettlement {
                // The broker went down while this delivery was in flight; it comes again and is deduplicated.
                state.withLock { $0.staleSettlements += 1 }
            }
        }
    }

    /// Polls until every expected id was handled, or nothing new was handled for `inactivity`.
    func waitForAll(_ expected: Set<String>, clock: any CourierClock, inactivity: Duration) async -> Bool {
        var lastCount = -1
        var lastProgress = clock.now()
        while true {
            let handled = state.withLock { $0.handled }
            if expected.isSubset(of: handled) { return true }
            if handled.count != lastCount {
                lastCount = handled.count
                lastProgress = clock.now()
            } else if clock.now() - lastProgress > inactivity {
                return false
            }
            try? await clock.sleep(for: .milliseconds(2))
        }
    }
}
