import Courier
import CourierMemory
import Testing

@Suite("consumer: the idempotency store", .timeLimit(.minutes(1)))
struct IdempotentConsumerTests {
    private func configuration(concurrency: Int, recoverability: RecoverabilityPolicy = .standard()) -> ConsumerConfiguration {
        ConsumerConfiguration(
            topic: "jobs", group: "workers", concurrency: concurrency, guarantee: .exactlyOnceEffects,
            recoverability: recoverability, resubscribeDelay: .seconds(1)
        )
    }

    @Test("a duplicate of a completed message is acked without running the handler, and counted")
    func duplicateOfCompleted() async throws {
        let fixture = try await ConsumerFixture()
        let store = MemoryIdempotencyStore(clock: fixture.clock)
        let runs = Probe<[String]>([])
        let consumer = try Consumer(
            transports: [fixture.transport], configuration: configuration(concurrency: 1), idempotencyStore: store, clock: fixture.clock
        ) { message in runs.append(message.envelope.id) }
        let running = RunningConsumer(consumer)
        fixture.broker.inject(.duplicateDeliveries(count: 1))
        try await fixture.publish("m")
        try await fixture.harness.waitForAcks(2, topic: "jobs")
        await running.stop()
        #expect(fixture.deliveries(of: "m").count == 2)
        #expect(runs.value == ["m"])
        #expect(consumer.statistics.consumed == 1)
        #expect(consumer.statistics.duplicatesDropped == 1)
        #expect(try await store.claim("m", lease: .seconds(1)) == .completed)
    }

    @Test("a duplicate arriving while the first is still in progress is not run twice")
    func duplicateWhileInProgress() async throws {
        let fixture = try await ConsumerFixture()
        let store = MemoryIdempotencyStore(clock: fixture.clock)
        let runs = Probe<[String]>([])
        let gate = Latch()
        let consumer = try Consumer(
            transports: [fixture.transport], configuration: configuration(concurrency: 4), idempotencyStore: store, clock: fixture.clock
        ) { message in
            runs.append(message.envelope.id)
            await gate.wait()
        }
        let running = RunningConsumer(consumer)
        fixture.broker.inject(.duplicateDeliveries(count: 1))
        try await fixture.publish("m")
        // Both copies are in the consumer at once; the second finds the key in progress and is put off.
        try await runs.waitUntil("the handler started") { $0.count == 1 }
        try await fixture.harness.waitUntil("the twin put off") { $0.redeliveries(topic: "jobs").count == 1 }
        #expect(runs.value == ["m"])
        #expect(fixture.harness.record.settlements(.ack).isEmpty)

        gate.open()
        try await fixture.harness.waitForAcks(1, topic: "jobs")
        await fixture.clock.waitForSleepers()
        fixture.clock.advance(by: .seconds(1))
        try await fixture.harness.waitForAcks(2, topic: "jobs")
        await running.stop()
        #expect(runs.value == ["m"])
        #expect(fixture.deliveries(of: "m").count == 3)
        #expect(consumer.statistics.consumed == 1)
        #expect(consumer.statistics.duplicatesDropped == 1)
    }

    @Test("a handler failure releases the key, so the redelivered message runs")
    func failureReleasesTheKey() async throws {
        let fixture = try await ConsumerFixture()
        let store = MemoryIdempotencyStore(clock: fixture.clock)
        let runs = Probe<[String]>([])
        let consumer = try Consumer(
            transports: [fixture.transport],
            configuration: configuration(concurrency: 1, recoverability: .standard(immediateRetries: 0, delays: [.seconds(2)])),
            idempotencyStore: store, clock: fixture.clock
        ) { message in
            runs.append("\(message.redeliveries)")
            if message.redeliveries == 0 { throw TestFailure() }
        }
        let running = RunningConsumer(consumer)
        try await fixture.publish("m")
        try await fixture.harness.waitUntil("redelivery scheduled") { $0.redeliveries(topic: "jobs").count == 1 }
        #expect(store.count == 0, "the failed claim was released")
        await fixture.clock.waitForSleepers()
        fixture.clock.advance(by: .seconds(2))
        try await fixture.harness.waitForAcks(1, topic: "jobs")
        await running.stop()
        #expect(runs.value == ["0", "1"])
        #expect(consumer.statistics.consumed == 1)
        #expect(consumer.statistics.duplicatesDropped == 0)
        #expect(try await store.claim("m", lease: .seconds(1)) == .completed)
    }

    @Test("the key is the idempotency key, not the message id: two messages of one operation run once")
    func businessKey() async throws {
        let fixture = try await ConsumerFixture()
        let store = MemoryIdempotencyStore(clock: fixture.clock)
        let runs = Probe<[String]>([])
        let consumer = try Consumer(
            transports: [fixture.transport], configuration: configuration(concurrency: 1), idempotencyStore: store, clock: fixture.clock
        ) { message in runs.append(message.envelope.id) }
        let running = RunningConsumer(consumer)
        for id in ["charge-1", "charge-1-resent"] {
            _ = try await fixture.transport.publish(Envelope(topic: "jobs", payload: [1], id: id, idempotencyKey: "order-7/charge"))
        }
        try await fixture.harness.waitForAcks(2, topic: "jobs")
        await running.stop()
        #expect(runs.value == ["charge-1"])
        #expect(consumer.statistics.duplicatesDropped == 1)
    }
}
