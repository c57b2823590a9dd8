import Courier
import CourierMemory
import Testing

@Suite("Memory transport: capacity and backpressure", .timeLimit(.minutes(1)))
struct CapacityTests {
    @Test func aFullTopicPushesBackUntilConsumersSettle() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(capacity: 3))
        var deliveries = try await fixture.subscribe(group: "g", prefetch: 10).makeAsyncIterator()
        for index in 1...3 { try await fixture.publish("m\(index)") }
        var held: [Delivery] = []
        for _ in 0..<3 { held.append(try await deliveries.take()) }

        let error = await fixture.publishError(.text("m4"))
        #expect(error?.code == .backpressure)
        #expect(error?.isRetriable == true)
        #expect(error?.isFatal == false)
        #expect(error?.transport == fixture.transport.name)
        #expect(error?.message.contains("capacity") == true)
        #expect(fixture.broker.retainedCount(topic: "orders") == 3)

        // Settling the oldest frees exactly one place.
        try await held[0].ack()
        try await fixture.publish("m4")
        #expect(await fixture.publishError(.text("m5"))?.code == .backpressure)

        try await held[1].ack()
        try await held[2].reject()
        try await fixture.publish("m5")
        try await fixture.publish("m6")
        #expect(fixture.broker.retainedCount(topic: "orders") == 3)
        #expect(fixture.harness.record.published.map(\.id) == ["m1", "m2", "m3", "m4", "m5", "m6"])
    }

    @Test func theSlowestGroupHoldsTheTopic() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(capacity: 2))
        let fast = ackingConsumer(try await fixture.subscribe(group: "fast"))
        var slow = try await fixture.subscribe(group: "slow", prefetch: 10).makeAsyncIterator()
        try await fixture.publish("m1")
        try await fixture.publish("m2")
        try await fixture.harness.waitForAcks(2)

        #expect(await fixture.publishError(.text("m3"))?.code == .backpressure)
        try await slow.take().ack()
        try await fixture.publish("m3")
        await fixture.transport.shutdown()
        #expect(await fast.value.ids == ["m1", "m2", "m3"])
    }

    @Test func withoutAnyGroupEverythingIsKeptUpToTheCapacity() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(capacity: 2))
        try await fixture.publish("m1")
        try await fixture.publish("m2")
        #expect(await fixture.publishError(.text("m3"))?.code == .backpressure)

        let consumer = ackingConsumer(try await fixture.subscribe(group: "late"))
        try await fixture.harness.waitForAcks(2)
        try await fixture.publish("m3")
        try await fixture.harness.waitForAcks(3)
        await fixture.transport.shutdown()
        #expect(await consumer.value.ids == ["m1", "m2", "m3"])
    }

    @Test func aMessageReturnedByAClosedMemberIsNotTrimmed() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(capacity: 2))
        let stream = try await fixture.subscribe(group: "g", prefetch: 2)
        var deliveries = stream.makeAsyncIterator()
        try await fixture.publish("m1")
        try await fixture.publish("m2")
        _ = try await deliveries.take()
        try await deliveries.take().ack()
        await stream.close()

        // m1 is owed to the group again, so the full topic may not drop it.
        #expect(await fixture.publishError(.text("m3"))?.code == .backpressure)
        var next = try await fixture.subscribe(group: "g").makeAsyncIterator()
        let m1 = try await next.take()
        #expect(m1.envelope.id == "m1")
        #expect(m1.deliveryCount == 2)
        try await m1.ack()
        try await fixture.publish("m3")
        #expect(try await next.take().envelope.id == "m3")
    }

    @Test func capacityIsPerTopic() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(capacity: 1))
        try await fixture.publish("a1", topic: "a")
        try await fixture.publish("b1", topic: "b")
        #expect(await fixture.publishError(.text("a2", topic: "a"))?.code == .backpressure)
    }
}
