import Courier
import CourierMemory
import Testing

@Suite("consumer: consuming a failover set", .timeLimit(.minutes(1)))
struct FailoverSetConsumptionTests {
    @Test("one consumer subscribes on every transport and sees the messages of each")
    func seesEveryTransport() async throws {
        let clock = VirtualClock()
        let primary = try await ConsumerFixture(clock: clock, transportName: "primary")
        let fallback = try await ConsumerFixture(clock: clock, transportName: "fallback")
        let runs = Probe<[String]>([])
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers")
        let consumer = try Consumer(transports: [primary.transport, fallback.transport], configuration: configuration, clock: clock) { message in
            runs.append("\(message.envelope.id)@\(message.source.transport)")
        }
        let running = RunningConsumer(consumer)
        try await primary.publish("p1")
        try await fallback.publish("f1")
        try await primary.publish("p2")
        try await fallback.publish("f2")
        try await primary.harness.waitForAcks(2, topic: "jobs")
        try await fallback.harness.waitForAcks(2, topic: "jobs")
        await running.stop()
        #expect(runs.value.sorted() == ["f1@fallback", "f2@fallback", "p1@primary", "p2@primary"])
        #expect(consumer.statistics.consumed == 4)
    }

    @Test("a message that reached both transports (failover after an unknown outcome) has its effects once, through a shared store")
    func duplicatesAcrossTransportsDropped() async throws {
        let clock = VirtualClock()
        let primary = try await ConsumerFixture(clock: clock, transportName: "primary")
        let fallback = try await ConsumerFixture(clock: clock, transportName: "fallback")
        let store = MemoryIdempotencyStore(clock: clock)
        let runs = Probe<[String]>([])
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", guarantee: .exactlyOnceEffects)
        let consumer = try Consumer(
            transports: [primary.transport, fallback.transport], configuration: configuration, idempotencyStore: store, clock: clock
        ) { message in runs.append("\(message.envelope.id)@\(message.source.transport)") }
        let running = RunningConsumer(consumer)
        let envelope = Envelope(topic: "jobs", text: "charge", id: "order-7")
        _ = try await primary.transport.publish(envelope)
        try await primary.harness.waitForAcks(1, topic: "jobs")
        _ = try await fallback.transport.publish(envelope)
        try await fallback.harness.waitForAcks(1, topic: "jobs")
        try await fallback.publish("other")
        try await fallback.harness.waitForAcks(2, topic: "jobs")
        await running.stop()
        #expect(runs.value == ["order-7@primary", "other@fallback"])
        #expect(consumer.statistics.consumed == 2)
        #expect(consumer.statistics.duplicatesDropped == 1)
    }

    @Test("a message from the fallback is dead-lettered on the fallback, where it came from")
    func deadLetterGoesToTheOrigin() async throws {
        let clock = VirtualClock()
        let primary = try await ConsumerFixture(clock: clock, transportName: "primary")
        let fallback = try await ConsumerFixture(clock: clock, transportName: "fallback")
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers")
        let consumer = try Consumer(transports: [primary.transport, fallback.transport], configuration: configuration, clock: clock) { _ in
            throw PoisonError()
        }
        let running = RunningConsumer(consumer)
        try await fallback.publish("m")
        let record = try await fallback.harness.waitUntil("dead-lettered and acked") {
            $0.published.contains { $0.topic == "jobs.dlq" } && $0.settlements(.ack, topic: "jobs").count == 1
        }
        await running.stop()
        #expect(record.published.first { $0.topic == "jobs.dlq" }?.headers[CourierHeader.faultTransport] == "fallback")
        #expect(primary.published(on: "jobs.dlq").isEmpty)
    }
}
