import Courier
import CourierMemory
import Synchronization
import Testing

@Suite("consumer: bounded concurrency and per-key order", .timeLimit(.minutes(1)))
struct ConcurrencyTests {
    /// Handlers running right now and the most seen at once, overall and per key.
    struct Activity: Sendable {
        var running = 0
        var most = 0
        var runningPerKey: [String: Int] = [:]
        var mostPerKey: [String: Int] = [:]
        var order: [String: [String]] = [:]
        var finished = 0
    }

    @Test("never more than `concurrency` handlers at once, and that many are used")
    func boundedConcurrency() async throws {
        let fixture = try await ConsumerFixture()
        let activity = Probe(Activity())
        for index in 0..<20 { try await fixture.publish("m\(index)") }
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", concurrency: 3, prefetch: 10)
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { _ in
            activity.update { $0.running += 1; $0.most = max($0.most, $0.running) }
            try await fixture.clock.sleep(for: .seconds(1))
            activity.update { $0.running -= 1; $0.finished += 1 }
        }
        let running = RunningConsumer(consumer)
        var remaining = 20
        while remaining > 0 {
            let batch = min(3, remaining)
            await fixture.clock.waitForSleepers(batch)
            #expect(fixture.clock.sleeperCount == batch)
            fixture.clock.advance(by: .seconds(1))
            remaining -= batch
            let done = 20 - remaining
            try await activity.waitUntil("\(done) finished") { $0.finished == done }
        }
        try await fixture.harness.waitForAcks(20, topic: "jobs")
        await running.stop()
        #expect(activity.value.most == 3)
        #expect(consumer.statistics.consumed == 20)
    }

    @Test("keepOrderPerKey with concurrency > 1: each key in publish order, one at a time; keys in parallel")
    func perKeyOrder() async throws {
        let fixture = try await ConsumerFixture()
        let activity = Probe(Activity())
        let keys = ["a", "b", "c"]
        for index in 0..<5 { for key in keys { try await fixture.publish("\(key)\(index)", key: key) } }
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", concurrency: 4, keepOrderPerKey: true)
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            let key = message.envelope.orderingKey ?? "?"
            activity.update {
                $0.running += 1
                $0.most = max($0.most, $0.running)
                $0.runningPerKey[key, default: 0] += 1
                $0.mostPerKey[key] = max($0.mostPerKey[key] ?? 0, $0.runningPerKey[key] ?? 0)
                $0.order[key, default: []].append(message.envelope.id)
            }
            try await fixture.clock.sleep(for: .seconds(1))
            activity.update { $0.running -= 1; $0.runningPerKey[key, default: 0] -= 1; $0.finished += 1 }
        }
        let running = RunningConsumer(consumer)
        for round in 1...5 {
            await fixture.clock.waitForSleepers(3)
            fixture.clock.advance(by: .seconds(1))
            try await activity.waitUntil("round \(round)") { $0.finished == 3 * round }
        }
        try await fixture.harness.waitForAcks(15, topic: "jobs")
        await running.stop()
        for key in keys {
            #expect(activity.value.order[key] == (0..<5).map { "\(key)\($0)" })
            #expect(activity.value.mostPerKey[key] == 1)
        }
        #expect(activity.value.most == 3, "different keys run in parallel")
    }

    @Test("keepOrderPerKey holds two copies of one keyed message back in the consumer; other keys go on meanwhile")
    func lanesHoldDuplicatesOfAKey() async throws {
        let fixture = try await ConsumerFixture()
        let calls = Probe<[String]>([])
        let gate = Latch()
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", concurrency: 2, keepOrderPerKey: true)
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            calls.append(message.envelope.id)
            if message.envelope.orderingKey == "a" { await gate.wait() }
        }
        let running = RunningConsumer(consumer)
        // The broker hands out both copies of a1 at once (the broker itself keeps one per key only
        // among distinct messages), so only the consumer's lanes keep them apart.
        fixture.broker.inject(.duplicateDeliveries(count: 1))
        try await fixture.publish("a1", key: "a")
        try await fixture.publish("b1", key: "b")
        // b1 can only take a slot once the copy of a1 gave its slot back, i.e. waits in a1's lane.
        try await calls.waitUntil("b1 handled") { $0.contains("b1") }
        #expect(calls.count(of: "a1") == 1)
        gate.open()
        try await fixture.harness.waitForAcks(3, topic: "jobs")
        await running.stop()
        #expect(calls.value == ["a1", "b1", "a1"])
    }
}
