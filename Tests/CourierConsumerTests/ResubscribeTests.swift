import Courier
import CourierMemory
import Testing

@Suite("consumer: resubscribes by itself after losing its subscription", .timeLimit(.minutes(1)))
struct ResubscribeTests {
    @Test("after the broker drops every subscription, consumption resumes by itself after resubscribeDelay")
    func resumesAfterDroppedSubscription() async throws {
        let fixture = try await ConsumerFixture()
        let calls = Probe<[String]>([])
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", resubscribeDelay: .seconds(2))
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            calls.append(message.envelope.id)
        }
        let events = Probe.events(of: consumer)
        let running = RunningConsumer(consumer)
        try await fixture.publish("before")
        try await fixture.harness.waitForAcks(1, topic: "jobs")

        fixture.broker.inject(.dropSubscriptions(topic: nil))
        await fixture.clock.waitForSleepers()  // the consumer waits out resubscribeDelay
        try await fixture.publish("during")
        #expect(calls.value == ["before"])
        fixture.clock.advance(by: .seconds(2))
        try await events.waitUntil("resubscribed") { $0.contains(.resubscribed(transport: "memory")) }
        try await fixture.harness.waitUntil("during acked") { $0.ackedIDs(topic: "jobs").contains("during") }
        try await fixture.publish("after")
        try await fixture.harness.waitForAcks(3, topic: "jobs")
        await running.stop()
        #expect(calls.value == ["before", "during", "after"])
        #expect(consumer.statistics.consumed == 3)
    }

    @Test("a subscribe that fails while the broker is down is retried until it is up")
    func retriesSubscribeWhileDown() async throws {
        let fixture = try await ConsumerFixture()
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", resubscribeDelay: .seconds(1))
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { _ in }
        let events = Probe.events(of: consumer)
        fixture.broker.inject(.down)
        let running = RunningConsumer(consumer)
        for _ in 1...3 {
            await fixture.clock.waitForSleepers()
            fixture.clock.advance(by: .seconds(1))
        }
        await fixture.clock.waitForSleepers()
        fixture.broker.inject(.up)
        try await fixture.publish("m")
        fixture.clock.advance(by: .seconds(1))
        try await fixture.harness.waitForAcks(1, topic: "jobs")
        await running.stop()
        #expect(consumer.statistics.consumed == 1)
        #expect(events.value.isEmpty, "the first subscription is not a resubscription")
    }
}
