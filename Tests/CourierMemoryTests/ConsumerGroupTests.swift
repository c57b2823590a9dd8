import Courier
import CourierMemory
import Testing

@Suite("Memory transport: consumer groups", .timeLimit(.minutes(1)))
struct ConsumerGroupTests {
    let ids = (1...20).map { "m\($0)" }

    @Test func everyGroupGetsEveryMessage() async throws {
        let fixture = try await MemoryFixture()
        let billing = ackingConsumer(try await fixture.subscribe(group: "billing"))
        let shipping = ackingConsumer(try await fixture.subscribe(group: "shipping"))
        for id in ids { try await fixture.publish(id) }
        try await fixture.harness.waitForAcks(40)
        await fixture.transport.shutdown()

        #expect(await billing.value.ids == ids)
        #expect(await shipping.value.ids == ids)
    }

    @Test func membersOfOneGroupShareTheMessages() async throws {
        let fixture = try await MemoryFixture()
        let one = ackingConsumer(try await fixture.subscribe(group: "workers", prefetch: 4))
        let two = ackingConsumer(try await fixture.subscribe(group: "workers", prefetch: 4))
        for id in ids { try await fixture.publish(id) }
        try await fixture.harness.waitForAcks(20)
        await fixture.transport.shutdown()

        let oneIDs = await one.value.ids
        let twoIDs = await two.value.ids
        #expect(!oneIDs.isEmpty)
        #expect(!twoIDs.isEmpty)
        #expect(Set(oneIDs).isDisjoint(with: twoIDs))
        #expect((oneIDs + twoIDs).sorted() == ids.sorted())
        #expect(fixture.harness.record.deliveries.count == 20)
    }

    @Test func membersTakeTurns() async throws {
        let fixture = try await MemoryFixture()
        let one = try await fixture.subscribe(group: "workers", prefetch: 3)
        let two = try await fixture.subscribe(group: "workers", prefetch: 3)
        var oneDeliveries = one.makeAsyncIterator()
        var twoDeliveries = two.makeAsyncIterator()
        for id in ids.prefix(6) { try await fixture.publish(id) }

        var oneIDs: [String] = []
        var twoIDs: [String] = []
        for _ in 0..<3 {
            oneIDs.append(try await oneDeliveries.take().envelope.id)
            twoIDs.append(try await twoDeliveries.take().envelope.id)
        }
        #expect(oneIDs == ["m1", "m3", "m5"])
        #expect(twoIDs == ["m2", "m4", "m6"])
    }

    @Test func privateSubscriptionsEachGetEverything() async throws {
        let fixture = try await MemoryFixture()
        let first = ackingConsumer(try await fixture.subscribe(group: nil))
        let second = ackingConsumer(try await fixture.subscribe(group: nil))
        for id in ids { try await fixture.publish(id) }
        try await fixture.harness.waitForAcks(40)
        await fixture.transport.shutdown()

        #expect(await first.value.ids == ids)
        #expect(await second.value.ids == ids)
        let groups = Set(fixture.harness.record.deliveries.map(\.group))
        #expect(groups.count == 2)
    }

    @Test func privateDeliveriesNameNoGroup() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe(group: nil).makeAsyncIterator()
        try await fixture.publish("m1")
        let delivery = try await deliveries.take()
        #expect(delivery.source.group == nil)
        try await delivery.ack()
    }
}
