import Courier
import CourierMemory
import Testing

@Suite("Memory transport: messages wait for groups that subscribe later", .timeLimit(.minutes(1)))
struct RetentionTests {
    @Test func groupsSubscribingLaterGetEverythingPublishedBefore() async throws {
        let fixture = try await MemoryFixture()
        let ids = (1...5).map { "m\($0)" }
        for id in ids { try await fixture.publish(id) }
        #expect(fixture.harness.record.deliveries.isEmpty)
        #expect(fixture.broker.retainedCount(topic: "orders") == 5)

        let first = ackingConsumer(try await fixture.subscribe(group: "first"))
        try await fixture.harness.waitForAcks(5)
        let second = ackingConsumer(try await fixture.subscribe(group: "second"))
        try await fixture.harness.waitForAcks(10)
        await fixture.transport.shutdown()

        #expect(await first.value.ids == ids)
        #expect(await second.value.ids == ids)
        let groups = fixture.harness.record.settlements(.ack).map(\.group)
        #expect(groups == Array(repeating: "first", count: 5) + Array(repeating: "second", count: 5))
    }

    @Test func aGroupKeepsItsPlaceWhileNoMemberIsSubscribed() async throws {
        let fixture = try await MemoryFixture()
        let firstStream = try await fixture.subscribe(group: "g")
        var firstDeliveries = firstStream.makeAsyncIterator()
        try await fixture.publish("m1")
        try await firstDeliveries.take().ack()
        await firstStream.close()

        try await fixture.publish("m2")
        try await fixture.publish("m3")

        // A new member starts where the group stopped: m1 is not delivered again.
        var deliveries = try await fixture.subscribe(group: "g").makeAsyncIterator()
        #expect(try await deliveries.take().envelope.id == "m2")
        #expect(try await deliveries.take().envelope.id == "m3")
        #expect(fixture.harness.record.deliveredIDs == ["m1", "m2", "m3"])
    }
}
