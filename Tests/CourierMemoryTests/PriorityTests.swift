import Courier
import CourierMemory
import Testing

@Suite("Memory transport: priorities", .timeLimit(.minutes(1)))
struct PriorityTests {
    @Test func higherPriorityOvertakesWaitingMessages() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe(prefetch: 1).makeAsyncIterator()
        try await fixture.publish("first")
        let first = try await deliveries.take()

        try await fixture.publish("low", priority: 1)
        try await fixture.publish("none")
        try await fixture.publish("high", priority: 9)
        try await fixture.publish("mid", priority: 5)
        try await fixture.publish("low-again", priority: 1)
        try await fixture.publish("mid-again", priority: 5)
        #expect(fixture.harness.record.deliveredIDs == ["first"])

        try await first.ack()
        var order: [String] = []
        for _ in 0..<6 {
            let delivery = try await deliveries.take()
            order.append(delivery.envelope.id)
            try await delivery.ack()
        }
        // Highest first; equal priorities in publish order; no priority counts as 0.
        #expect(order == ["high", "mid", "mid-again", "low", "low-again", "none"])
    }

    @Test func aRequeuedLowPriorityMessageWaitsBehindHigherOnes() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe(prefetch: 1).makeAsyncIterator()
        try await fixture.publish("low", priority: 2)
        let low = try await deliveries.take()
        try await fixture.publish("urgent", priority: 8)

        try await low.nack(requeue: true)

        #expect(try await deliveries.take().envelope.id == "urgent")
        #expect(fixture.harness.record.deliveredIDs == ["low", "urgent"])
    }

    @Test func priorityDoesNotBreakOrderPerKey() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe(prefetch: 1).makeAsyncIterator()
        try await fixture.publish("hold")
        let hold = try await deliveries.take()
        try await fixture.publish("k-low", key: "k", priority: 0)
        try await fixture.publish("k-high", key: "k", priority: 9)
        try await fixture.publish("other", priority: 3)

        try await hold.ack()
        var order: [String] = []
        for _ in 0..<3 {
            let delivery = try await deliveries.take()
            order.append(delivery.envelope.id)
            try await delivery.ack()
        }
        // k-high may not pass k-low, which is older in its key; "other" outranks k-low.
        #expect(order == ["other", "k-low", "k-high"])
    }
}
