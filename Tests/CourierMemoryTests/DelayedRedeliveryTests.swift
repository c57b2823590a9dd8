import Courier
import CourierMemory
import Testing

@Suite("memory transport: delayed redelivery on the virtual clock", .timeLimit(.minutes(1)))
struct DelayedRedeliveryTests {
    @Test("redeliver(after:) brings the message back only once the clock passes the delay, with merged headers")
    func redeliverAfterDelay() async throws {
        let clock = VirtualClock()
        let broker = MemoryBroker(name: "delays", clock: clock)
        let transport = MemoryTransport(broker: broker)
        let harness = MemoryTestHarness(broker: broker)
        try await transport.start()
        let stream = try await transport.subscribe(Subscription(topic: "jobs", group: "workers"))
        var deliveries = stream.makeAsyncIterator()
        _ = try await transport.publish(Envelope(topic: "jobs", text: "job", id: "job-1", headers: ["tenant": "a"]))

        let first = try #require(try await deliveries.next())
        #expect(first.deliveryCount == 1)
        try await first.redeliver(after: .seconds(10), headers: [CourierHeader.attempt: "1"])

        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(9))
        #expect(harness.record.deliveries.count == 1, "redelivered before its delay ended")
        clock.advance(by: .seconds(1))

        let second = try #require(try await deliveries.next())
        #expect(second.envelope.id == "job-1")
        #expect(second.deliveryCount == 2)
        #expect(second.envelope.headers == ["tenant": "a", CourierHeader.attempt: "1"])
        try await second.ack()
        let record = try await harness.waitForAcks(1)
        #expect(record.redeliveries(topic: "jobs").count == 1)
        await transport.shutdown()
    }

    @Test("a delayed message is not trimmed from a full topic while it waits")
    func delayedMessageSurvivesTrim() async throws {
        let clock = VirtualClock()
        let broker = MemoryBroker(name: "delays-trim", options: MemoryBrokerOptions(capacity: 2), clock: clock)
        let transport = MemoryTransport(broker: broker)
        try await transport.start()
        let stream = try await transport.subscribe(Subscription(topic: "jobs", group: "workers", prefetch: 1))
        var deliveries = stream.makeAsyncIterator()
        _ = try await transport.publish(Envelope(topic: "jobs", text: "first", id: "first"))
        _ = try await transport.publish(Envelope(topic: "jobs", text: "second", id: "second"))

        try await #require(try await deliveries.next()).redeliver(after: .seconds(5), headers: [:])
        try await #require(try await deliveries.next()).ack()
        // The topic is full and "first" is still owed to the group: a third publish must be refused.
        await #expect(throws: CourierError.self) {
            _ = try await transport.publish(Envelope(topic: "jobs", text: "third"))
        }
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(5))
        let again = try #require(try await deliveries.next())
        #expect(again.envelope.id == "first")
        await transport.shutdown()
    }
}
