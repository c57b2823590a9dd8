import Courier
import CourierMemory
import Testing

@Suite("Memory transport: ack, requeue, reject", .timeLimit(.minutes(1)))
struct SettlementTests {
    @Test func requeuedMessageComesBackAsARedelivery() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe().makeAsyncIterator()
        try await fixture.publish("m1")

        let first = try await deliveries.take()
        #expect(first.deliveryCount == 1)
        #expect(!first.isRedelivery)
        try await first.nack(requeue: true)

        let second = try await deliveries.take()
        #expect(second.envelope == first.envelope)
        #expect(second.deliveryCount == 2)
        #expect(second.isRedelivery)
        #expect(second.tag != first.tag)
        try await second.nack()

        let third = try await deliveries.take()
        #expect(third.deliveryCount == 3)
        try await third.ack()
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
        #expect(fixture.harness.record.settlements.map(\.action) == [.requeue, .requeue, .ack])
    }

    @Test(arguments: [SettleAction.reject, .ack])
    func settledMessageIsNotRedelivered(action: SettleAction) async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe().makeAsyncIterator()
        try await fixture.publish("m1")
        try await deliveries.take().settle(action)

        try await fixture.publish("m2")
        let next = try await deliveries.take()
        #expect(next.envelope.id == "m2")
        #expect(fixture.harness.record.deliveredIDs == ["m1", "m2"])
        #expect(fixture.broker.parkedMessages(topic: "orders").isEmpty)
    }

    @Test func nackWithoutRequeueRejects() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe().makeAsyncIterator()
        try await fixture.publish("m1")
        try await deliveries.take().nack(requeue: false)
        #expect(fixture.harness.record.settlements.map(\.action) == [.reject])
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
        #expect(fixture.harness.record.deliveredIDs == ["m1"])
    }

    @Test(arguments: [SettleAction.ack, .requeue, .reject])
    func settlingTwiceIsAnInvalidSettlement(second: SettleAction) async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe(prefetch: 1).makeAsyncIterator()
        try await fixture.publish("m1")
        let delivery = try await deliveries.take()
        try await delivery.ack()

        let error = await courierError { try await delivery.settle(second) }
        #expect(error?.code == .invalidSettlement)
        #expect(error?.message.contains("already settled") == true)
        // The failed settlement changed nothing.
        #expect(fixture.harness.record.settlements.map(\.action) == [.ack])
        try await fixture.publish("m2")
        #expect(try await deliveries.take().envelope.id == "m2")
    }

    @Test("the broker settles a tag it is given directly, finding its group; a second time is invalid")
    func brokerSettlesATagDirectly() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe(prefetch: 1).makeAsyncIterator()
        try await fixture.publish("m1")
        let delivery = try await deliveries.take()
        try await fixture.broker.settle(tag: delivery.tag, .ack)
        #expect(fixture.harness.record.settlements.map(\.action) == [.ack])
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)

        let again = await courierError { try await fixture.broker.settle(tag: delivery.tag, .requeue) }
        #expect(again?.code == .invalidSettlement)
        let unknown = await courierError { try await fixture.broker.settle(tag: 987_654, .ack) }
        #expect(unknown?.code == .invalidSettlement)
        #expect(fixture.harness.record.settlements.map(\.action) == [.ack])
    }

    @Test func requeueAfterAckOfTheSameTagDoesNotResurrectTheMessage() async throws {
        let fixture = try await MemoryFixture()
        let stream = try await fixture.subscribe()
        var deliveries = stream.makeAsyncIterator()
        try await fixture.publish("m1")
        let delivery = try await deliveries.take()
        try await delivery.reject()
        _ = await courierError { try await delivery.nack(requeue: true) }
        await stream.close()
        #expect(fixture.harness.record.deliveredIDs == ["m1"])
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
    }
}
