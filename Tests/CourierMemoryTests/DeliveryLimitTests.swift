import Courier
import CourierMemory
import Testing

@Suite("Memory transport: delivery limit", .timeLimit(.minutes(1)))
struct DeliveryLimitTests {
    @Test func aMessageRequeuedUpToTheLimitIsParkedInsteadOfLooping() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(maxDeliveries: 3))
        var deliveries = try await fixture.subscribe(group: "g").makeAsyncIterator()
        let poison = try await fixture.publish("poison")

        for expectedCount in 1...3 {
            let delivery = try await deliveries.take()
            #expect(delivery.envelope.id == "poison")
            #expect(delivery.deliveryCount == expectedCount)
            try await delivery.nack(requeue: true)
        }

        #expect(fixture.broker.parkedMessages(topic: "orders") == [poison])
        #expect(fixture.harness.record.parked == [poison])
        #expect(fixture.harness.record.deliveries.count == 3)
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)

        // The consumer goes on with the next message; the poison one does not come back.
        try await fixture.publish("next")
        let next = try await deliveries.take()
        #expect(next.envelope.id == "next")
        #expect(next.deliveryCount == 1)
        #expect(fixture.harness.record.deliveredIDs == ["poison", "poison", "poison", "next"])
    }

    @Test func parkingReportsTheGroupAndTheCount() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(maxDeliveries: 1))
        let log = EventLog(broker: fixture.broker)
        var deliveries = try await fixture.subscribe(group: "billing").makeAsyncIterator()
        try await fixture.publish("m1")
        try await deliveries.take().nack(requeue: true)

        let parked = log.all.compactMap { event -> (String, String, Int)? in
            if case .parked(let envelope, let group, let count) = event { return (envelope.id, group, count) }
            return nil
        }
        #expect(parked.count == 1)
        #expect(parked.first?.0 == "m1")
        #expect(parked.first?.1 == "billing")
        #expect(parked.first?.2 == 1)
    }

    @Test func eachGroupCountsItsOwnDeliveries() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(maxDeliveries: 2))
        var failing = try await fixture.subscribe(group: "failing").makeAsyncIterator()
        var healthy = try await fixture.subscribe(group: "healthy").makeAsyncIterator()
        try await fixture.publish("m1")

        try await failing.take().nack()
        try await failing.take().nack()
        #expect(fixture.broker.parkedMessages(topic: "orders").map(\.id) == ["m1"])

        let delivery = try await healthy.take()
        #expect(delivery.deliveryCount == 1)
        try await delivery.ack()
    }

    @Test func aRequeueLoopEndsOnItsOwn() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(maxDeliveries: 5))
        let stream = try await fixture.subscribe()
        // A consumer that fails every message forever.
        let consumer = Task {
            for try await delivery in stream { try await delivery.nack(requeue: true) }
        }
        for index in 1...4 { try await fixture.publish("m\(index)") }

        let record = try await fixture.harness.waitUntil("all four parked") { $0.parked.count == 4 }
        #expect(record.deliveries.count == 20)
        #expect(Set(fixture.broker.parkedMessages(topic: "orders").map(\.id)) == ["m1", "m2", "m3", "m4"])
        await stream.close()
        try await consumer.value
        #expect(fixture.harness.record.deliveries.count == 20)
    }
}
