import Courier
import Synchronization
import Testing
@testable import CourierKafka

@Suite("Kafka consumer groups")
struct ConsumerGroupTests {
    @Test("two groups each get every message")
    func twoGroupsEachGetAll() async throws {
        let test = try await KafkaTestCluster.start(topics: ["events": 3])
        let producer = try await test.transport()
        let sent = try await publish(producer, topic: "events", count: 30)
        let first = try await test.transport()
        let second = try await test.transport()
        let streamA = try await first.subscribe(Subscription(topic: "events", group: "analytics"))
        let streamB = try await second.subscribe(Subscription(topic: "events", group: "archive"))
        async let receivedA = receive(streamA, count: 30)
        async let receivedB = receive(streamB, count: 30)
        let (a, b) = try await (receivedA, receivedB)
        let expected = Set(sent.map(\.messageID))
        #expect(Set(a.map(\.envelope.id)) == expected)
        #expect(Set(b.map(\.envelope.id)) == expected)
        await test.close()
    }

    @Test("members of one group share the partitions and together get every message")
    func membersSharePartitions() async throws {
        let test = try await KafkaTestCluster.start(topics: ["jobs": 4])
        let producer = try await test.transport()
        let memberA = try await test.transport()
        let memberB = try await test.transport()
        let streamA = try await memberA.subscribe(Subscription(topic: "jobs", group: "workers"))
        let streamB = try await memberB.subscribe(Subscription(topic: "jobs", group: "workers"))
        let balanced = try await eventually {
            let a = memberA.assignments().flatMap { $0 }.filter { $0.topic == "jobs" }
            let b = memberB.assignments().flatMap { $0 }.filter { $0.topic == "jobs" }
            return a.count == 2 && b.count == 2 && Set(a).isDisjoint(with: b)
        }
        #expect(balanced, "the two members did not split the four partitions")
        let sent = try await publish(producer, topic: "jobs", count: 100, key: { "key-\($0 % 10)" })
        let collector = DeliveryCollector()
        async let doneA: Void = collector.drain(streamA, as: "A")
        async let doneB: Void = collector.drain(streamB, as: "B")
        let complete = try await eventually { collector.ids.count >= sent.count }
        await streamA.close()
        await streamB.close()
        _ = try await (doneA, doneB)
        #expect(complete)
        #expect(collector.ids == Set(sent.map(\.messageID)))
        #expect(collector.count(for: "A") > 0 && collector.count(for: "B") > 0)
        #expect(collector.duplicates == 0)
        await test.close()
    }

    // The mock coordinator waits session.timeout.ms - 1 s for members to rejoin after any change. A member
    // that leaves (LeaveGroup) is replaced after about that; one that just vanishes only after its session
    // expires on top of it: about 5 s versus 11 s here.
    @Test("closing a member leaves the group at once: the other member takes over without waiting for the session timeout")
    func closeLeavesGroup() async throws {
        let test = try await KafkaTestCluster.start(topics: ["handover": 2])
        let slowToNotice = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
        let memberA = try await test.transport(slowToNotice)
        let memberB = try await test.transport(slowToNotice)
        let streamA = try await memberA.subscribe(Subscription(topic: "handover", group: "pair"))
        let streamB = try await memberB.subscribe(Subscription(topic: "handover", group: "pair"))
        let split = try await eventually {
            memberA.assignments().flatMap { $0 }.filter { $0.topic == "handover" }.count == 1
                && memberB.assignments().flatMap { $0 }.filter { $0.topic == "handover" }.count == 1
        }
        #expect(split)
        let closedAt = ContinuousClock.now
        await streamA.close()
        let tookOver = try await eventually(.seconds(25)) {
            memberB.assignments().flatMap { $0 }.filter { $0.topic == "handover" }.count == 2
        }
        #expect(tookOver)
        #expect(ContinuousClock.now - closedAt < .seconds(8.5), "took \(ContinuousClock.now - closedAt): the member did not leave the group")
        await streamB.close()
        await test.close()
    }

    @Test("breaking out of for-await and dropping the stream without close leaves the group as a close does")
    func droppedStreamLeavesGroup() async throws {
        let test = try await KafkaTestCluster.start(topics: ["abandoned": 2])
        let slowToNotice = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]
        let memberA = try await test.transport(slowToNotice)
        let memberB = try await test.transport(slowToNotice)
        let sent = try await publish(memberA, topic: "abandoned", count: 20) { "key-\($0)" }
        let streamB = try await memberB.subscribe(Subscription(topic: "abandoned", group: "pair"))
        var taken: Delivery?
        var droppedAt = ContinuousClock.now
        do {
            // The stream and its iterator live in this scope only: no close(), no cancellation.
            let streamA = try await memberA.subscribe(Subscription(topic: "abandoned", group: "pair"))
            let split = try await eventually {
                memberA.assignments().flatMap { $0 }.filter { $0.topic == "abandoned" }.count == 1
                    && memberB.assignments().flatMap { $0 }.filter { $0.topic == "abandoned" }.count == 1
            }
            #expect(split)
            for try await delivery in streamA {
                try await delivery.ack()
                taken = delivery
                break
            }
            droppedAt = .now
        }
        #expect(taken != nil)
        let left = try await eventually(.seconds(10)) { memberA.assignments().isEmpty }
        #expect(left, "the dropped subscription was not closed")
        let tookOver = try await eventually(.seconds(25)) {
            memberB.assignments().flatMap { $0 }.filter { $0.topic == "abandoned" }.count == 2
        }
        #expect(tookOver)
        #expect(ContinuousClock.now - droppedAt < .seconds(8.5), "took \(ContinuousClock.now - droppedAt): the member did not leave the group")
        // Everything but the one the walked-away member acked reaches the other member (with duplicates:
        // what B held unsettled across the rebalance comes again).
        let expected = Set(sent.map(\.messageID)).subtracting([taken?.envelope.id].compactMap { $0 })
        let covered = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                var seen = Set<String>()
                for try await delivery in streamB {
                    seen.insert(delivery.envelope.id)
                    try await delivery.ack()
                    if expected.isSubset(of: seen) { return true }
                }
                return false
            }
            group.addTask {
                try await Task.sleep(for: .seconds(20))
                return false
            }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
        #expect(covered, "the other member did not get every message the dropped one left")
        await streamB.close()
        await test.close()
    }

    @Test("at least once across a consumer restart: nothing lost, acked messages not redelivered")
    func atLeastOnceAcrossRestart() async throws {
        let test = try await KafkaTestCluster.start(topics: ["payments": 3])
        let producer = try await test.transport()
        let sent = try await publish(producer, topic: "payments", count: 60)
        let firstTransport = try await test.transport()
        let first = try await firstTransport.subscribe(Subscription(topic: "payments", group: "ledger", prefetch: 8))
        // Ack 25, then stop with the next ones handed out but unsettled.
        let acked = try await receive(first, count: 25)
        let unsettled = try await receive(first, count: 5) { _ in }
        await firstTransport.shutdown()
        #expect(acked.count == 25 && unsettled.count == 5)

        let secondTransport = try await test.transport()
        let second = try await secondTransport.subscribe(Subscription(topic: "payments", group: "ledger"))
        let rest = try await receive(second, count: 35, idle: .seconds(8))
        let ackedIDs = Set(acked.map(\.envelope.id))
        let restIDs = Set(rest.map(\.envelope.id))
        #expect(ackedIDs.union(restIDs) == Set(sent.map(\.messageID)), "a message was lost")
        #expect(ackedIDs.isDisjoint(with: restIDs), "an acked message came back")
        #expect(Set(unsettled.map(\.envelope.id)).isSubset(of: restIDs), "an unsettled message was not redelivered")
        await test.close()
    }
}

/// Collects deliveries from several members, acking each.
final class DeliveryCollector: Sendable {
    private let state = Mutex<(ids: Set<String>, perMember: [String: Int], duplicates: Int)>(([], [:], 0))

    func drain(_ stream: DeliveryStream, as member: String) async throws {
        for try await delivery in stream {
            state.withLock { state in
                if !state.ids.insert(delivery.envelope.id).inserted { state.duplicates += 1 }
                state.perMember[member, default: 0] += 1
            }
            try await delivery.ack()
        }
    }

    var ids: Set<String> { state.withLock { $0.ids } }
    var duplicates: Int { state.withLock { $0.duplicates } }
    func count(for member: String) -> Int { state.withLock { $0.perMember[member] ?? 0 } }
}
