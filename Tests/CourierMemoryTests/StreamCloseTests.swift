import Courier
import CourierMemory
import Testing

@Suite("Memory transport: closing a subscription returns its unsettled deliveries", .timeLimit(.minutes(1)))
struct StreamCloseTests {
    @Test func closeReturnsUnsettledToTheGroup() async throws {
        let fixture = try await MemoryFixture()
        let stream = try await fixture.subscribe(group: "g", prefetch: 5)
        var deliveries = stream.makeAsyncIterator()
        for id in ["m1", "m2", "m3", "m4"] { try await fixture.publish(id) }
        let first = try await deliveries.take()
        try await first.ack()
        let held = [try await deliveries.take(), try await deliveries.take()]
        #expect(fixture.broker.unsettledCount(topic: "orders") == 3)

        await stream.close()
        await stream.close() // idempotent
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
        for delivery in held {
            let error = await courierError { try await delivery.ack() }
            #expect(error?.code == .invalidSettlement)
        }
        // The stream ends. What it had buffered before the close (m4) may still come out, but it went
        // back to the group with the rest, so it cannot be settled here.
        var leftovers: [String] = []
        while let stale = try await deliveries.next() {
            leftovers.append(stale.envelope.id)
            let error = await courierError { try await stale.ack() }
            #expect(error?.code == .invalidSettlement)
        }
        #expect(Set(leftovers).isSubset(of: ["m4"]))

        // Continue after close: a new member gets exactly what was not acknowledged, in order.
        var next = try await fixture.subscribe(group: "g").makeAsyncIterator()
        var resumed: [(String, Int)] = []
        for _ in 0..<3 {
            let delivery = try await next.take()
            resumed.append((delivery.envelope.id, delivery.deliveryCount))
            try await delivery.ack()
        }
        #expect(resumed.map(\.0) == ["m2", "m3", "m4"])
        #expect(resumed.map(\.1) == [2, 2, 2])
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
    }

    @Test("a private subscription's delivery cannot be settled once it closed, nor delayed back into its group")
    func privateGroupGoesWithItsSubscription() async throws {
        let clock = VirtualClock()
        let fixture = try await MemoryFixture(clock: clock)
        let stream = try await fixture.subscribe(group: nil, prefetch: 5)
        var deliveries = stream.makeAsyncIterator()
        try await fixture.publish("m1")
        try await fixture.publish("m2")
        let first = try await deliveries.take()
        let second = try await deliveries.take()
        // Its delay ends after the group went: nothing may come of it.
        try await second.redeliver(after: .seconds(5))
        await clock.waitForSleepers(1)
        await stream.close()
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
        for action in [SettleAction.ack, .requeue, .reject] {
            let error = await courierError { try await first.settle(action) }
            #expect(error?.code == .invalidSettlement)
        }
        clock.advance(by: .seconds(10))

        // A private subscription opened now is a group of its own: it reads what the topic retains, once.
        var later = try await fixture.subscribe(group: nil).makeAsyncIterator()
        try await fixture.publish("m3")
        var read: [String] = []
        for _ in 0..<3 {
            let delivery = try await later.take()
            #expect(delivery.deliveryCount == 1)
            read.append(delivery.envelope.id)
            try await delivery.ack()
        }
        #expect(read == ["m1", "m2", "m3"])
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
        #expect(fixture.harness.record.settlements.map(\.action).filter { $0 != .ack }.count == 1)
    }

    @Test func closeHandsUnsettledToAnotherMemberAtOnce() async throws {
        let fixture = try await MemoryFixture()
        let leaving = try await fixture.subscribe(group: "g", prefetch: 1)
        let staying = try await fixture.subscribe(group: "g", prefetch: 1)
        try await fixture.publish("m1")
        try await fixture.publish("m2")
        var stayingDeliveries = staying.makeAsyncIterator()
        let m2 = try await stayingDeliveries.take()
        #expect(m2.envelope.id == "m2")
        try await m2.ack()

        await leaving.close()

        let m1 = try await stayingDeliveries.take()
        #expect(m1.envelope.id == "m1")
        #expect(m1.deliveryCount == 2)
    }

    /// Subscribes, takes one delivery, breaks out of the loop and lets the stream go.
    private func takeOneAndBreak(_ fixture: MemoryFixture) async throws -> Delivery? {
        let stream = try await fixture.subscribe(group: "g", prefetch: 2)
        var taken: Delivery?
        for try await delivery in stream {
            taken = delivery
            break
        }
        return taken
    }

    @Test func breakingOutOfTheLoopReturnsUnsettled() async throws {
        let fixture = try await MemoryFixture()
        try await fixture.publish("m1")
        try await fixture.publish("m2")
        let taken = try #require(try await takeOneAndBreak(fixture))
        #expect(taken.envelope.id == "m1")

        var next = try await fixture.subscribe(group: "g").makeAsyncIterator()
        try await fixture.harness.waitUntil("m1 and m2 redelivered") { record in
            record.deliveries.filter { $0.deliveryCount == 2 }.map(\.envelope.id).sorted() == ["m1", "m2"]
        }
        let ids = [try await next.take(), try await next.take()].map(\.envelope.id)
        #expect(ids == ["m1", "m2"])
        let error = await courierError { try await taken.ack() }
        #expect(error?.code == .invalidSettlement)
    }

    @Test func cancellingTheConsumingTaskReturnsUnsettled() async throws {
        let fixture = try await MemoryFixture()
        let stream = try await fixture.subscribe(group: "g", prefetch: 4)
        let consumer = Task {
            var ids: [String] = []
            for try await delivery in stream { ids.append(delivery.envelope.id) } // never settles
            return ids
        }
        try await fixture.publish("m1")
        try await fixture.publish("m2")
        #expect(fixture.broker.unsettledCount(topic: "orders") == 2)

        consumer.cancel()
        let seen = try await consumer.value
        #expect(seen.count <= 2)

        // The close runs in a task of its own, so wait for the redeliveries it causes.
        var next = try await fixture.subscribe(group: "g").makeAsyncIterator()
        try await fixture.harness.waitUntil("m1 and m2 redelivered") { record in
            record.deliveries.filter { $0.deliveryCount == 2 }.count == 2
        }
        let redelivered = [try await next.take(), try await next.take()]
        #expect(redelivered.map(\.envelope.id) == ["m1", "m2"])
        #expect(redelivered.map(\.deliveryCount) == [2, 2])
    }

    /// Regression: a publish that reaches a member whose stream has ended before its close ran used to
    /// leave that member's unsettled deliveries in flight for good. The race is real time, so run it often.
    @Test func unsettledComeBackEvenWhenAPublishRacesTheCancellation() async throws {
        for round in 0..<50 {
            let fixture = try await MemoryFixture()
            let stream = try await fixture.subscribe(group: "g", prefetch: 4)
            let consumer = Task { for try await _ in stream {} }
            try await fixture.publish("m1")
            consumer.cancel()
            try await fixture.publish("m2")
            _ = await consumer.result

            var next = try await fixture.subscribe(group: "g", prefetch: 4).makeAsyncIterator()
            // Once the cancelled member is gone nothing of it is in flight, so two unsettled deliveries
            // with m1's second among them mean the new member holds both.
            try await fixture.harness.waitUntil("round \(round): m1 and m2 reach the new member") { record in
                record.deliveries.contains { $0.envelope.id == "m1" && $0.deliveryCount == 2 }
                    && fixture.broker.unsettledCount(topic: "orders") == 2
            }
            let ids = Set([try await next.take(), try await next.take()].map(\.envelope.id))
            #expect(ids == ["m1", "m2"], "round \(round)")
        }
    }
}
