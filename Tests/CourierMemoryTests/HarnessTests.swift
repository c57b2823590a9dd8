import Courier
import CourierMemory
import Testing

@Suite("Memory test harness", .timeLimit(.minutes(1)))
struct HarnessTests {
    @Test func waitUntilTimesOutWithASummaryWhenNothingHappens() async throws {
        let fixture = try await MemoryFixture()
        try await fixture.publish("m1")
        try await fixture.publish("m2")
        fixture.broker.inject(.holdConfirms)

        let timeout = await #expect(throws: MemoryTestHarness.Timeout.self) {
            try await fixture.harness.waitUntil("a third message", inactivity: .milliseconds(200)) {
                $0.published.count == 3
            }
        }
        #expect(timeout?.condition == "a third message")
        #expect(timeout?.inactivity == .milliseconds(200))
        #expect(timeout?.record.published.count == 2)
        let description = timeout?.description ?? ""
        #expect(description.contains("timed out waiting until a third message"), "\(description)")
        #expect(description.contains(timeout?.record.summary ?? "no record"), "\(description)")
        for count in ["published 2", "delivered 0", "acked 0", "parked 0", "faults 1"] {
            #expect(description.contains(count), "\(description)")
        }
    }

    @Test func waitForAcksTimesOutWhenAcksStopComing() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe().makeAsyncIterator()
        try await fixture.publish("m1")
        try await deliveries.take().ack()

        let timeout = await #expect(throws: MemoryTestHarness.Timeout.self) {
            try await fixture.harness.waitForAcks(2, topic: "orders", inactivity: .milliseconds(200))
        }
        #expect(timeout?.condition == "2 acks on orders")
        #expect(timeout?.description.contains("acked 1") == true)
    }

    @Test func waitUntilReturnsTheRecordOnceTheConditionHolds() async throws {
        let fixture = try await MemoryFixture()
        let consumer = ackingConsumer(try await fixture.subscribe(topic: "t"))
        for index in 1...3 { try await fixture.publish("m\(index)", topic: "t") }
        let record = try await fixture.harness.waitForAcks(3, topic: "t")
        #expect(record.ackedIDs(topic: "t") == ["m1", "m2", "m3"])
        #expect(record.ackedIDs(topic: "other").isEmpty)
        #expect(record.settlements(.ack).count == 3)
        #expect(record.summary.hasPrefix("published 3, delivered 3, acked 3"))
        await fixture.transport.shutdown()
        _ = await consumer.value
    }

    @Test func aConditionThatAlreadyHoldsReturnsAtOnce() async throws {
        let fixture = try await MemoryFixture()
        let record = try await fixture.harness.waitUntil("nothing", inactivity: .milliseconds(1)) { $0.published.isEmpty }
        #expect(record.summary.hasPrefix("published 0, delivered 0, acked 0"))
    }

    @Test func stopEndsRecording() async throws {
        let fixture = try await MemoryFixture()
        try await fixture.publish("m1")
        await fixture.harness.stop()
        try await fixture.publish("m2")
        #expect(fixture.harness.record.published.map(\.id) == ["m1"])
    }

    @Test func eventsArriveInOrder() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(maxDeliveries: 1))
        let log = EventLog(broker: fixture.broker)
        var deliveries = try await fixture.subscribe(group: "g").makeAsyncIterator()
        fixture.broker.inject(.failPublishes(count: 0, retriable: true))
        try await fixture.publish("m1")
        try await deliveries.take().nack()

        let kinds = log.all.map { event -> String in
            switch event {
            case .fault: "fault"
            case .published(_, let offset): "published@\(offset)"
            case .delivered(_, let group, let count, _): "delivered(\(group),\(count))"
            case .parked(_, let group, let count): "parked(\(group),\(count))"
            case .settled(_, _, let action, _): "settled(\(action))"
            }
        }
        #expect(kinds == ["fault", "published@0", "delivered(g,1)", "parked(g,1)", "settled(requeue)"])
    }
}
