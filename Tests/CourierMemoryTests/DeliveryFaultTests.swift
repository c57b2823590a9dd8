import Courier
import CourierMemory
import Testing

@Suite("Memory faults: duplicate deliveries and dropped subscriptions", .timeLimit(.minutes(1)))
struct DeliveryFaultTests {
    @Test func duplicateDeliveriesAddExactlyThatManyExtras() async throws {
        let fixture = try await MemoryFixture()
        fixture.broker.inject(.duplicateDeliveries(count: 2))
        let consumer = ackingConsumer(try await fixture.subscribe(prefetch: 10))
        let ids = (1...5).map { "m\($0)" }
        for id in ids { try await fixture.publish(id) }

        try await fixture.harness.waitForAcks(7)
        await fixture.transport.shutdown()
        let received = await consumer.value.ids
        #expect(received.count == 7)
        #expect(received == ["m1", "m1", "m2", "m2", "m3", "m4", "m5"])
        #expect(fixture.harness.record.deliveries.map(\.deliveryCount) == [1, 2, 1, 2, 1, 1, 1])
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
    }

    @Test func aDuplicateIsSettledOnItsOwnTag() async throws {
        let fixture = try await MemoryFixture()
        fixture.broker.inject(.duplicateDeliveries(count: 1))
        var deliveries = try await fixture.subscribe().makeAsyncIterator()
        try await fixture.publish("m1")
        let original = try await deliveries.take()
        let duplicate = try await deliveries.take()
        #expect(original.envelope == duplicate.envelope)
        #expect(original.tag != duplicate.tag)

        try await original.ack()
        #expect(fixture.broker.unsettledCount(topic: "orders") == 1)
        try await duplicate.ack()
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
        try await fixture.publish("m2")
        #expect(try await deliveries.take().envelope.id == "m2")
    }

    @Test func droppedSubscriptionThrowsSubscriptionLost() async throws {
        let fixture = try await MemoryFixture()
        let stream = try await fixture.subscribe(group: "g", prefetch: 4)
        var deliveries = stream.makeAsyncIterator()
        try await fixture.publish("m1")
        try await fixture.publish("m2")
        let first = try await deliveries.take()
        try await first.ack()
        let second = try await deliveries.take()

        fixture.broker.inject(.dropSubscriptions(topic: nil))

        let error = await courierError { _ = try await deliveries.next() }
        #expect(error?.code == .subscriptionLost)
        #expect(error?.isRetriable == true)
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
        let settleError = await courierError { try await second.ack() }
        #expect(settleError?.code == .invalidSettlement)

        // Subscribing again picks up the unsettled one, and nothing that was acknowledged.
        var again = try await fixture.subscribe(group: "g").makeAsyncIterator()
        let redelivered = try await again.take()
        #expect(redelivered.envelope.id == "m2")
        #expect(redelivered.deliveryCount == 2)
        try await redelivered.ack()
        try await fixture.publish("m3")
        #expect(try await again.take().envelope.id == "m3")
    }

    @Test func droppingOneTopicLeavesOthersAlone() async throws {
        let fixture = try await MemoryFixture()
        let orders = try await fixture.subscribe(topic: "orders")
        var invoices = try await fixture.subscribe(topic: "invoices").makeAsyncIterator()

        fixture.broker.inject(.dropSubscriptions(topic: "orders"))

        var ordersDeliveries = orders.makeAsyncIterator()
        let error = await courierError { _ = try await ordersDeliveries.next() }
        #expect(error?.code == .subscriptionLost)
        try await fixture.publish("i1", topic: "invoices")
        #expect(try await invoices.take().envelope.id == "i1")
    }
}
