import Courier
import CourierMemory
import Testing

/// The consumer's reader takes the next batch from its subscription only once the workers have brought
/// the queue down to one delivery per worker; deliveries gather in the subscription meanwhile.
@Suite("consumer: reading in batches while the workers are busy", .timeLimit(.minutes(1)))
struct BatchedReadingTests {
    @Test("a reader waiting for room is woken by shutdown; what was queued or left in the subscription goes back")
    func shutdownWakesAReaderWaitingForRoom() async throws {
        let fixture = try await ConsumerFixture()
        let calls = Probe<[String]>([])
        let gate = Latch()
        for index in 0..<10 { try await fixture.publish("m\(index)") }
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers", concurrency: 1, prefetch: 10, shutdownGracePeriod: .seconds(10)
        )
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            calls.append(message.envelope.id)
            await gate.wait()
        }
        let running = RunningConsumer(consumer)
        try await calls.waitUntil("m0 started") { $0 == ["m0"] }
        #expect(fixture.broker.unsettledCount(topic: "jobs") == 10)

        await consumer.shutdown()
        gate.open()
        await running.task.value
        #expect(calls.value == ["m0"])
        #expect(consumer.statistics.consumed == 1)
        #expect(fixture.harness.record.ackedIDs(topic: "jobs") == ["m0"])
        #expect(fixture.broker.unsettledCount(topic: "jobs") == 0)
    }

    @Test("every message is handled when the prefetch is many times the concurrency and handlers ack from many tasks")
    func everyMessageIsHandled() async throws {
        let fixture = try await ConsumerFixture()
        let total = 3_000
        for index in 0..<total { try await fixture.publish("m\(index)", key: index % 2 == 0 ? "k\(index % 7)" : nil) }
        let handled = Probe(0)
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", concurrency: 8, prefetch: 256)
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { _ in
            handled.update { $0 += 1 }
        }
        let running = RunningConsumer(consumer)
        try await fixture.harness.waitForAcks(total, topic: "jobs")
        await running.stop()
        #expect(handled.value == total)
        #expect(consumer.statistics.consumed == total)
        #expect(fixture.broker.unsettledCount(topic: "jobs") == 0)
    }
}
