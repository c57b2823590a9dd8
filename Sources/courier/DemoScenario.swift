import Courier
import CourierMemory
import CourierSQLite
import Synchronization

/// One run of the demo: two memory brokers, a producer with a SQLite spool, a consumer on both, and a
/// fault script keyed to how many messages have been published.
struct DemoScenario {
    let messages: Int
    let spoolPath: String
    let registry: TransportRegistry
    let progress: ProgressLine

    /// Settings that let the demo's outages play out in about a second.
    static let configuration = ProducerConfiguration(
        retry: RetryPolicy(maxAttempts: 2, deadline: .milliseconds(200), backoff: Backoff(initial: .milliseconds(2), maximum: .milliseconds(10))),
        breaker: CircuitBreakerConfiguration(window: .count(10), minimumCalls: 5, openDuration: .milliseconds(150), permittedCallsInHalfOpen: 2),
        relayInterval: .milliseconds(20)
    )

    func run() async throws -> DemoReport {
        let clock = SystemClock()
        let started = clock.now()
        let brokers = MemoryBrokers()
        var registry = registry
        registry.register(MemoryTransportFactory(brokers: brokers))
        let context = TransportContext(clock: clock)
        let primary = try registry.makeTransport(TransportSpec(url: TransportURL("memory://primary"), name: "primary"), context: context)
        let secondary = try registry.makeTransport(TransportSpec(url: TransportURL("memory://secondary"), name: "secondary"), context: context)
        guard let primaryBroker = brokers.existingBroker(named: "primary"), let secondaryBroker = brokers.existingBroker(named: "secondary") else {
            throw CourierError(.fatal, "the demo's memory brokers were not created")
        }
        for transport in [primary, secondary] { try await transport.start() }

        let spool = try await SQLiteSpool.open(path: spoolPath, clock: clock)
        let producer = Producer(transports: [primary, secondary], configuration: Self.configuration, spool: spool, clock: clock)
        let failedBack = Atomic<Bool>(false)
        producer.onEvent { event in
            if case .failedBack = event { failedBack.store(true, ordering: .relaxed) }
        }
        let relay = Task { try await producer.run() }

        let consumer = DemoConsumer(failingOnce: "order-\(messages / 8)")
        var workers: [Task<Void, any Error>] = []
        for transport in [primary, secondary] {
            let deliveries = try await transport.subscribe(Subscription(topic: "orders", group: "demo-workers", prefetch: 8))
            workers.append(Task { try await consumer.consume(deliveries) })
        }

        primaryBroker.inject(.failPublishes(count: 1, retriable: true))
        primaryBroker.inject(.duplicateDeliveries(count: 1))
        var accepted = Set<String>()
        for index in 0..<messages {
            switch index {
            case messages / 4: primaryBroker.inject(.down)
            case messages / 2: secondaryBroker.inject(.down)
            case messages * 3 / 4:
                primaryBroker.inject(.up)
                secondaryBroker.inject(.up)
            default: break
            }
            let id = "order-\(index)"
            _ = try await producer.publish(Envelope(
                topic: "orders", payload: Array("order \(index)".utf8), id: id, orderingKey: "customer-\(index % 5)"
            ))
            accepted.insert(id)
            if index % 10 == 0 { progress.update(status(producer, published: index + 1)) }
            try await clock.sleep(for: .milliseconds(2))
        }
        // Wait for the spool to drain, then show failback with a few more messages.
        let settle = clock.now()
        while try await spool.depth().messages > 0 || !producer.breakers[0].admitsCalls, clock.now() - settle < .seconds(5) {
            progress.update(status(producer, published: messages))
            try await clock.sleep(for: .milliseconds(10))
        }
        for index in messages..<(messages + 5) {
            let id = "order-\(index)"
            _ = try await producer.publish(Envelope(topic: "orders", payload: Array("order \(index)".utf8), id: id))
            accepted.insert(id)
        }
        _ = await consumer.waitForAll(accepted, clock: clock, inactivity: .seconds(5))
        progress.finish()

        await producer.shutdown()
        _ = await relay.result
        for transport in [primary, secondary] { await transport.shutdown() }
        for worker in workers { _ = await worker.result }
        await spool.close()

        let statistics = producer.statistics
        let outcome = consumer.outcome
        var report = DemoReport()
        report.published = statistics.published
        report.confirmed = statistics.confirmed
        report.failedOver = statistics.failedOver
        report.spooled = statistics.spooled
        report.drainedFromSpool = statistics.drainedFromSpool
        report.retried = statistics.retried
        report.consumed = outcome.handled.count
        report.duplicatesDropped = outcome.duplicatesDropped
        report.redelivered = outcome.requeued
        report.lost = accepted.subtracting(outcome.handled).count
        report.unexpected = outcome.handled.subtracting(accepted).count
        report.failedBack = failedBack.load(ordering: .relaxed)
        report.elapsedMilliseconds = Int((clock.now() - started).seconds * 1000)
        return report
    }

    private func status(_ producer: Producer, published: Int) -> String {
        let statistics = producer.statistics
        let states = producer.breakers.map { "\($0.name)=\($0.currentState)" }.joined(separator: " ")
        return "published \(published)/\(messages)  confirmed \(statistics.confirmed)  failed over \(statistics.failedOver)  "
            + "spooled \(statistics.spooled)  drained \(statistics.drainedFromSpool)  breakers \(states)"
    }
}
