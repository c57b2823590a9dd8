import Courier
import CourierMemory
import Testing

@Suite("Memory transport: prefetch (no ack, no next)", .timeLimit(.minutes(1)))
struct PrefetchTests {
    @Test func prefetchOneHoldsTheSecondUntilTheFirstIsSettled() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe(prefetch: 1).makeAsyncIterator()
        try await fixture.publish("m1")
        try await fixture.publish("m2")

        let first = try await deliveries.take()
        #expect(first.envelope.id == "m1")
        #expect(fixture.harness.record.deliveredIDs == ["m1"])
        #expect(fixture.broker.unsettledCount(topic: "orders") == 1)

        try await first.ack()
        #expect(fixture.harness.record.deliveredIDs == ["m1", "m2"])
        let second = try await deliveries.take()
        #expect(second.envelope.id == "m2")
        #expect(second.deliveryCount == 1)
    }

    @Test func rejectAndRequeueAlsoMakeRoom() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe(prefetch: 1).makeAsyncIterator()
        for id in ["m1", "m2", "m3"] { try await fixture.publish(id) }

        try await deliveries.take().reject()
        #expect(fixture.harness.record.deliveredIDs == ["m1", "m2"])
        try await deliveries.take().nack(requeue: true)
        // The requeued m2 goes first again.
        #expect(fixture.harness.record.deliveredIDs == ["m1", "m2", "m2"])
    }

    @Test func neverMoreUnsettledThanThePrefetch() async throws {
        let fixture = try await MemoryFixture()
        let stream = try await fixture.subscribe(prefetch: 3)
        var deliveries = stream.makeAsyncIterator()
        for index in 1...10 { try await fixture.publish("m\(index)") }
        #expect(fixture.harness.record.deliveries.count == 3)
        #expect(fixture.broker.unsettledCount(topic: "orders") == 3)

        var held: [Delivery] = []
        for _ in 0..<3 { held.append(try await deliveries.take()) }
        try await held[1].ack()
        #expect(fixture.harness.record.deliveredIDs == ["m1", "m2", "m3", "m4"])
        #expect(fixture.broker.unsettledCount(topic: "orders") == 3)
    }

    @Test func aLargePrefetchIsRefilledOnceHalfOfItIsSettled() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe(prefetch: 32).makeAsyncIterator()
        let held = try await takeFullPrefetch(of: 32, publishing: 64, fixture, &deliveries)
        #expect(fixture.harness.record.deliveries.count == 32)

        // Settling does not hand out one delivery per settlement: the next batch comes at half the prefetch.
        for delivery in held.prefix(15) { try await delivery.ack() }
        #expect(fixture.harness.record.deliveries.count == 32)
        #expect(fixture.broker.unsettledCount(topic: "orders") == 17)
        try await held[15].ack()
        #expect(fixture.harness.record.deliveries.count == 48)
        #expect(fixture.broker.unsettledCount(topic: "orders") == 32)
        #expect(fixture.harness.record.deliveredIDs.suffix(16) == (33...48).map { "m\($0)" })
    }

    @Test func aReaderThatRanDryGetsWhatItsPrefetchAllowsWithoutWaitingForHalf() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe(prefetch: 32).makeAsyncIterator()
        let held = try await takeFullPrefetch(of: 32, publishing: 40, fixture, &deliveries)
        // A handler that waits for more before it settles the rest (a batching handler) is not stuck:
        // three acks leave room for three, and asking for more hands them out.
        for delivery in held.prefix(3) { try await delivery.ack() }
        #expect(fixture.harness.record.deliveries.count == 32)
        for expected in 33...35 { #expect(try await deliveries.take().envelope.id == "m\(expected)") }
        #expect(fixture.broker.unsettledCount(topic: "orders") == 32)
    }

    @Test func eachMemberHasItsOwnPrefetch() async throws {
        let fixture = try await MemoryFixture()
        let one = try await fixture.subscribe(prefetch: 1)
        let two = try await fixture.subscribe(prefetch: 2)
        for index in 1...5 { try await fixture.publish("m\(index)") }
        #expect(fixture.broker.unsettledCount(topic: "orders") == 3)
        var oneDeliveries = one.makeAsyncIterator()
        var twoDeliveries = two.makeAsyncIterator()
        #expect(try await oneDeliveries.take().envelope.id == "m1")
        #expect(try await twoDeliveries.take().envelope.id == "m2")
        #expect(try await twoDeliveries.take().envelope.id == "m3")
    }

    /// Publishes `published` messages and takes the first `prefetch` of them, leaving them unsettled.
    private func takeFullPrefetch(
        of prefetch: Int, publishing published: Int, _ fixture: MemoryFixture, _ deliveries: inout DeliveryStream.Iterator
    ) async throws -> [Delivery] {
        for index in 1...published { try await fixture.publish("m\(index)") }
        var held: [Delivery] = []
        for _ in 0..<prefetch { held.append(try await deliveries.take()) }
        return held
    }
}
