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
    /// Where the demo's producer and consumer report metrics and events (`courier demo --metrics-port`, tests).
    var observability: Observability?

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
        let producer = Producer(
            transports: [primary, secondary], configuration: Self.configuration, spool: spool, clock: clock, observability: observability
        )
        let failedBack = Atomic<Bool>(false)
        producer.onEvent { event in
            if case .failedBack = event { failedBack.store(true, ordering: .relaxed) }
        }
        let relay = Task { try await producer.run() }

        let handler = DemoHandler(poisonID: "order-\(messages / 8 + 1)")
        let consumer = try Consumer(
            transports: [primary, secondary],
            configuration: Self.consumerConfiguration,
            idempotencyStore: MemoryIdempotencyStore(clock: clock),
            clock: clock,
            observability: observability,
            handler: handler.handle
        )
        let deadLettered = IDSet()
        consumer.onEvent { event in
            if case .deadLettered(let id, _, _) = event { deadLettered.insert(id) }
        }
        let consuming = Task { await consumer.run() }

        primaryBroker.inject(.failPublishes(count: 1, retriable: true))
        primaryBroker.inject(.duplicateDeliveries(count: 1))
        var accepted = Set<String>()
        for index in 0..<messages {
            switch index {
            case messages / 4:
                // The primary stores this message but its confirm is lost when it goes down: the producer
                // resends it to the fallback, so it exists twice; the idempotency store drops the twin.
                try await publishWithLostConfirm(index, producer: producer, broker: primaryBroker)
                accepted.insert("order-\(index)")
                continue
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
        await waitUntilSettled(accepted, handler: handler, deadLettered: deadLettered, clock: clock)
        await waitUntilQuiet(consumer, clock: clock)
        progress.finish()

        await producer.shutdown()
        _ = await relay.result
        await consumer.shutdown()
        await consuming.value
        for transport in [primary, secondary] { await transport.shutdown() }
        await spool.close()

        let statistics = producer.statistics
        let consumed = consumer.statistics
        let effects = handler.recorded
        let handled = Set(effects.runs.keys)
        let dead = deadLettered.ids
        var report = DemoReport()
        report.published = statistics.published
        report.confirmed = statistics.confirmed
        report.failedOver = statistics.failedOver
        report.spooled = statistics.spooled
        report.drainedFromSpool = statistics.drainedFromSpool
        report.retried = statistics.retried
        report.consumed = consumed.consumed
        report.duplicatesDropped = consumed.duplicatesDropped
        report.redelivered = consumed.redelivered
        report.retriedByHandler = consumed.retried
        report.deadLettered = consumed.deadLettered
        report.duplicateEffects = effects.runs.values.filter { $0 > 1 }.count
        report.lost = accepted.subtracting(handled).subtracting(dead).count
        report.unexpected = handled.union(dead).subtracting(accepted).count
        report.failedBack = failedBack.load(ordering: .relaxed)
        report.elapsedMilliseconds = Int((clock.now() - started).seconds * 1000)
        return report
    }

    /// The consumer side of the demo: one immediate retry, two short delayed redeliveries, then the DLQ.
    static let consumerConfiguration = ConsumerConfiguration(
        topic: "orders",
        group: "demo-workers",
        concurrency: 4,
        prefetch: 8,
        recoverability: .standard(immediateRetries: 1, immediateBackoff: .milliseconds(1), delays: [.milliseconds(20), .milliseconds(40)])
    )

    /// Publishes message `index` while the primary holds its confirm, then takes the primary down.
    private func publishWithLostConfirm(_ index: Int, producer: Producer, broker: MemoryBroker) async throws {
        broker.inject(.holdConfirms)
        let envelope = Envelope(topic: "orders", payload: Array("order \(index)".utf8), id: "order-\(index)", orderingKey: "customer-\(index % 5)")
        let publishing = Task { try await producer.publish(envelope) }
        let clock = SystemClock()
        let started = clock.now()
        while broker.unsettledCount(topic: "orders") + broker.retainedCount(topic: "orders") == 0, clock.now() - started < .seconds(2) {
            try await clock.sleep(for: .milliseconds(1))
        }
        try await clock.sleep(for: .milliseconds(5))
        broker.inject(.down)
        broker.inject(.releaseConfirms)
        _ = try await publishing.value
    }

    /// Waits until every accepted message was handled or dead-lettered, or nothing moved for 5 s.
    private func waitUntilSettled(_ accepted: Set<String>, handler: DemoHandler, deadLettered: IDSet, clock: any CourierClock) async {
        var last = -1
        var lastChange = clock.now()
        while true {
            let done = Set(handler.recorded.runs.keys).union(deadLettered.ids)
            if accepted.isSubset(of: done) { return }
            if done.count != last {
                last = done.count
                lastChange = clock.now()
            } else if clock.now() - lastChange > .seconds(5) {
                return
            }
            try? await clock.sleep(for: .milliseconds(5))
        }
    }

    /// Twins put off while their first copy ran come back a little later: wait until the consumer's
    /// counts stop moving (at most 3 s) so the summary counts them.
    private func waitUntilQuiet(_ consumer: Consumer, clock: any CourierClock) async {
        let started = clock.now()
        var last = consumer.statistics
        var lastChange = clock.now()
        while clock.now() - started < .seconds(3), clock.now() - lastChange < .milliseconds(300) {
            try? await clock.sleep(for: .milliseconds(20))
            let now = consumer.statistics
            if now != last {
                last = now
                lastChange = clock.now()
            }
        }
    }

    private func status(_ producer: Producer, published: Int) -> String {
        let statistics = producer.statistics
        let states = producer.breakers.map { "\($0.name)=\($0.currentState)" }.joined(separator: " ")
        return "published \(published)/\(messages)  confirmed \(statistics.confirmed)  failed over \(statistics.failedOver)  "
            + "spooled \(statistics.spooled)  drained \(statistics.drainedFromSpool)  breakers \(states)"
    }
}

/// A set of message ids shared between tasks.
final class IDSet: Sendable {
    private let storage = Mutex<Set<String>>([])
    func insert(_ id: String) { _ = storage.withLock { $0.insert(id) } }
    var ids: Set<String> { storage.withLock { $0 } }
}
