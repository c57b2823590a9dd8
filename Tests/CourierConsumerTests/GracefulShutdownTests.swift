import Courier
import CourierMemory
import Testing

@Suite("consumer: graceful shutdown", .timeLimit(.minutes(1)))
struct GracefulShutdownTests {
    @Test("an in-flight handler finishes within the grace period and its message is acked, not handed to anyone else")
    func inFlightFinishesAndIsAcked() async throws {
        let fixture = try await ConsumerFixture()
        let calls = Probe<[String]>([])
        let gate = Latch()
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", shutdownGracePeriod: .seconds(10))
        let leaving = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            calls.append("A:\(message.envelope.id)")
            await gate.wait()
        }
        let runningLeaving = RunningConsumer(leaving)
        try await fixture.publish("m")
        try await calls.waitUntil("A started m") { $0 == ["A:m"] }
        let staying = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            calls.append("B:\(message.envelope.id)")
        }
        let runningStaying = RunningConsumer(staying)

        await leaving.shutdown()
        // Still A's: the broker did not get it back while A's handler runs.
        #expect(fixture.broker.unsettledCount(topic: "jobs") == 1)
        #expect(fixture.deliveries(of: "m").count == 1)
        // A pulls nothing new: a message published now is handled by B only.
        try await fixture.publish("n")
        gate.open()
        await runningLeaving.task.value
        try await fixture.harness.waitUntil("n acked") { $0.ackedIDs(topic: "jobs").contains("n") }
        #expect(fixture.harness.record.ackedIDs(topic: "jobs") == ["m", "n"])
        #expect(fixture.deliveries(of: "m").count == 1)
        #expect(leaving.statistics.consumed == 1)
        await runningStaying.stop()
        #expect(calls.value == ["A:m", "B:n"])
        #expect(staying.statistics.consumed == 1)
    }

    @Test("shutdown waits for every busy handler, the last one included, and each message is acked once")
    func drainWaitsForTheLastBusyHandler() async throws {
        let fixture = try await ConsumerFixture()
        let started = Probe<Set<String>>([])
        let gates = ["a": Latch(), "b": Latch(), "c": Latch()]
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", concurrency: 3, shutdownGracePeriod: .seconds(10))
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            _ = started.update { $0.insert(message.envelope.id) }
            await gates[message.envelope.id]?.wait()
        }
        let running = RunningConsumer(consumer)
        for id in ["a", "b", "c"] { try await fixture.publish(id) }
        try await started.waitUntil("three handlers running") { $0 == ["a", "b", "c"] }
        let returned = Latch()
        Task {
            await running.task.value
            returned.open()
        }

        await consumer.shutdown()
        gates["a"]?.open()
        gates["c"]?.open()
        try await fixture.harness.waitUntil("a and c acked") { Set($0.ackedIDs(topic: "jobs")) == ["a", "c"] }
        #expect(!returned.isOpen, "run() returned while b's handler still ran")
        #expect(fixture.broker.unsettledCount(topic: "jobs") == 1, "b is still its handler's, not handed back")
        gates["b"]?.open()
        await returned.wait()
        #expect(Set(fixture.harness.record.ackedIDs(topic: "jobs")) == ["a", "b", "c"])
        #expect(["a", "b", "c"].map { fixture.deliveries(of: $0).count } == [1, 1, 1])
        #expect(consumer.statistics.consumed == 3)
    }

    @Test("a handler that outlives the grace period is cancelled and its message goes to the next consumer")
    func outlivesGracePeriod() async throws {
        let fixture = try await ConsumerFixture()
        let calls = Probe<[String]>([])
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", shutdownGracePeriod: .seconds(10))
        let leaving = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            calls.append("A:\(message.envelope.id)")
            try await fixture.clock.sleep(for: .seconds(60))
            calls.append("A finished")
        }
        let runningLeaving = RunningConsumer(leaving)
        try await fixture.publish("m")
        await fixture.clock.waitForSleepers(1)
        let staying = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            calls.append("B:\(message.envelope.id)")
        }
        let runningStaying = RunningConsumer(staying)

        await leaving.shutdown()
        await fixture.clock.waitForSleepers(2)  // the handler and the grace period
        fixture.clock.advance(by: .seconds(10) - .milliseconds(1))
        #expect(fixture.deliveries(of: "m").count == 1, "not handed back before the grace period ends")
        fixture.clock.advance(by: .milliseconds(1))
        await runningLeaving.task.value
        try await fixture.harness.waitUntil("m acked by B") { $0.ackedIDs(topic: "jobs").contains("m") }
        await runningStaying.stop()
        #expect(calls.value == ["A:m", "B:m"])
        #expect(fixture.deliveries(of: "m").map(\.deliveryCount) == [1, 2])
        #expect(leaving.statistics.consumed == 0)
        #expect(staying.statistics.consumed == 1)
    }

    @Test("cancelling the task running the consumer ends run(), and unfinished messages go back")
    func cancellationEndsRun() async throws {
        let fixture = try await ConsumerFixture()
        let calls = Probe<[String]>([])
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers")
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            calls.append(message.envelope.id)
            try await fixture.clock.sleep(for: .seconds(60))
        }
        let running = RunningConsumer(consumer)
        try await fixture.publish("m")
        await fixture.clock.waitForSleepers(1)
        running.task.cancel()
        await running.task.value
        #expect(fixture.broker.unsettledCount(topic: "jobs") == 0)
        #expect(consumer.statistics.consumed == 0)
    }
}
