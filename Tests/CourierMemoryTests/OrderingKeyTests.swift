import Courier
import CourierMemory
import Synchronization
import Testing

@Suite("Memory transport: order per key", .timeLimit(.minutes(1)))
struct OrderingKeyTests {
    @Test func aKeysNextMessageWaitsUntilItsPredecessorIsSettled() async throws {
        let fixture = try await MemoryFixture()
        let stream = try await fixture.subscribe(prefetch: 10)
        var deliveries = stream.makeAsyncIterator()
        try await fixture.publish("a1", key: "a")
        try await fixture.publish("a2", key: "a")
        try await fixture.publish("b1", key: "b")
        try await fixture.publish("plain")

        // Dispatch happens while publishing, so the broker's books are final here.
        #expect(fixture.harness.record.deliveredIDs == ["a1", "b1", "plain"])
        let a1 = try await deliveries.take()
        let b1 = try await deliveries.take()
        let plain = try await deliveries.take()
        #expect([a1, b1, plain].map(\.envelope.id) == ["a1", "b1", "plain"])

        try await b1.ack()
        try await plain.ack()
        #expect(fixture.harness.record.deliveredIDs == ["a1", "b1", "plain"])

        try await a1.ack()
        #expect(fixture.harness.record.deliveredIDs == ["a1", "b1", "plain", "a2"])
        #expect(try await deliveries.take().envelope.id == "a2")
    }

    @Test func aRequeuedMessageIsRedeliveredBeforeTheRestOfItsKey() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe(prefetch: 10).makeAsyncIterator()
        for index in 1...3 { try await fixture.publish("k\(index)", key: "k") }

        var handled: [String] = []
        var failedOnce = false
        while handled.count < 3 {
            let delivery = try await deliveries.take()
            if delivery.envelope.id == "k2" && !failedOnce {
                failedOnce = true
                try await delivery.nack(requeue: true)
            } else {
                handled.append(delivery.envelope.id)
                try await delivery.ack()
            }
        }
        #expect(handled == ["k1", "k2", "k3"])
        #expect(fixture.harness.record.deliveredIDs == ["k1", "k2", "k2", "k3"])
    }

    @Test func perKeyOrderHoldsWithSeveralKeysMembersAndPrefetch() async throws {
        let fixture = try await MemoryFixture()
        let log = EventLog(broker: fixture.broker)
        let keys = ["red", "green", "blue", "amber"]
        let perKey = 15
        // Half is waiting when the members join (so several keys are in flight at once for sure), the
        // rest is published while they consume.
        for index in 0..<perKey / 2 {
            for key in keys { try await fixture.publish("\(key)-\(index)", key: key) }
        }
        let oneStream = try await fixture.subscribe(group: "workers", prefetch: 4)
        let twoStream = try await fixture.subscribe(group: "workers", prefetch: 4)
        let one = ackingConsumer(oneStream)
        let two = ackingConsumer(twoStream)
        for index in perKey / 2..<perKey {
            for key in keys { try await fixture.publish("\(key)-\(index)", key: key) }
        }
        try await fixture.harness.waitForAcks(keys.count * perKey)
        await fixture.transport.shutdown()
        let oneIDs = await one.value.ids
        let twoIDs = await two.value.ids
        #expect(!oneIDs.isEmpty && !twoIDs.isEmpty)
        #expect(oneIDs.count + twoIDs.count == keys.count * perKey)

        // Acks per key are in publish order.
        let acks = fixture.harness.record.settlements(.ack)
        for key in keys {
            let order = acks.filter { $0.envelope.orderingKey == key }.map(\.envelope.id)
            #expect(order == (0..<perKey).map { "\(key)-\($0)" }, "key \(key)")
        }

        // At no point was more than one message of a key unsettled.
        var unsettledPerKey: [String: Int] = [:]
        var mostAtOnce = 0
        for event in log.all {
            switch event {
            case .delivered(let envelope, _, _, _):
                let key = try #require(envelope.orderingKey)
                unsettledPerKey[key, default: 0] += 1
                #expect(unsettledPerKey[key] == 1, "\(envelope.id) was delivered while \(key) had one unsettled")
            case .settled(let envelope, _, _, _):
                let key = try #require(envelope.orderingKey)
                unsettledPerKey[key, default: 0] -= 1
            default:
                break
            }
            mostAtOnce = max(mostAtOnce, unsettledPerKey.values.reduce(0, +))
        }
        // Prefetch above one let every key be in flight together.
        #expect(mostAtOnce == keys.count)
    }
}
