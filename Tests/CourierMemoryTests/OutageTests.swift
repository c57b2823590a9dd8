import Courier
import CourierMemory
import Testing

@Suite("Memory faults: broker down and up", .timeLimit(.minutes(1)))
struct OutageTests {
    @Test func whileDownPublishAndSubscribeAreUnavailable() async throws {
        let fixture = try await MemoryFixture()
        fixture.broker.inject(.down)
        #expect(fixture.broker.isDown)

        let publishError = await fixture.publishError(.text("m1"))
        #expect(publishError?.code == .unavailable)
        #expect(publishError?.isRetriable == true)
        #expect(publishError?.mayDuplicate == false)
        #expect(publishError?.transport == fixture.transport.name)
        let subscribeError = await courierError { _ = try await fixture.subscribe() }
        #expect(subscribeError?.code == .unavailable)
        #expect(subscribeError?.isRetriable == true)
        #expect(fixture.harness.record.published.isEmpty)

        fixture.broker.inject(.up)
        #expect(!fixture.broker.isDown)
        try await fixture.publish("m1")
        var deliveries = try await fixture.subscribe().makeAsyncIterator()
        #expect(try await deliveries.take().envelope.id == "m1")
    }

    @Test func inFlightDeliveriesReturnAndResumeAfterUp() async throws {
        let fixture = try await MemoryFixture()
        let stream = try await fixture.subscribe(prefetch: 2)
        var deliveries = stream.makeAsyncIterator()
        try await fixture.publish("m1", key: "k")
        try await fixture.publish("m2")
        let old = [try await deliveries.take(), try await deliveries.take()]
        #expect(old.map(\.deliveryCount) == [1, 1])

        fixture.broker.inject(.down)
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
        for delivery in old {
            let error = await courierError { try await delivery.ack() }
            #expect(error?.code == .invalidSettlement)
        }
        // Nothing is delivered while down.
        #expect(fixture.harness.record.deliveries.count == 2)

        fixture.broker.inject(.up)
        // The same subscription resumes by itself.
        let resumed = [try await deliveries.take(), try await deliveries.take()]
        #expect(resumed.map(\.envelope.id) == ["m1", "m2"])
        #expect(resumed.map(\.deliveryCount) == [2, 2])
        #expect(resumed.allSatisfy { $0.isRedelivery })
        for delivery in resumed { try await delivery.ack() }
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
    }

    @Test func downAndUpAreIdempotent() async throws {
        let fixture = try await MemoryFixture()
        fixture.broker.inject(.up) // not down: nothing happens
        var deliveries = try await fixture.subscribe().makeAsyncIterator()
        try await fixture.publish("m1")
        let first = try await deliveries.take()

        fixture.broker.inject(.down)
        fixture.broker.inject(.down)
        fixture.broker.inject(.up)
        let again = try await deliveries.take()
        // One outage, one redelivery.
        #expect(again.deliveryCount == 2)
        #expect(first.tag != again.tag)
        try await again.ack()
    }

    @Test func messagesPublishedBeforeTheOutageSurviveIt() async throws {
        let fixture = try await MemoryFixture()
        for index in 1...3 { try await fixture.publish("m\(index)") }
        fixture.broker.inject(.down)
        fixture.broker.inject(.up)
        let consumer = ackingConsumer(try await fixture.subscribe())
        try await fixture.harness.waitForAcks(3)
        await fixture.transport.shutdown()
        #expect(await consumer.value.ids == ["m1", "m2", "m3"])
    }
}
