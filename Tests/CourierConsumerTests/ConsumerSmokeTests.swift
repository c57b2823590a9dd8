import Courier
import CourierMemory
import Synchronization
import Testing

@Suite("consumer: first round trip", .timeLimit(.minutes(1)))
struct ConsumerSmokeTests {
    struct Boom: Error {}

    @Test("handles, retries once, and dead-letters an unrecoverable message with fault headers")
    func handlesRetriesAndDeadLetters() async throws {
        let broker = MemoryBroker(name: "smoke-\(Envelope.makeID())")
        let transport = MemoryTransport(broker: broker, name: "memory")
        try await transport.start()
        let harness = MemoryTestHarness(broker: broker)
        let seen = Mutex<[String]>([])
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers",
            recoverability: .standard(immediateRetries: 1, immediateBackoff: .zero, delays: [])
        )
        let consumer = try Consumer(transports: [transport], configuration: configuration) { message in
            seen.withLock { $0.append("\(message.envelope.id)#\(message.attempt)") }
            if message.envelope.id == "poison" { throw UndecodableMessageError("not json") }
            if message.envelope.id == "flaky", message.attempt == 1 { throw Boom() }
        }
        let running = Task { await consumer.run() }
        for id in ["ok", "flaky", "poison"] {
            _ = try await transport.publish(Envelope(topic: "jobs", text: id, id: id))
        }
        let record = try await harness.waitUntil("two acks on jobs and one dead letter") {
            $0.settlements(.ack, topic: "jobs").count == 3 && $0.published.contains { $0.topic == "jobs.dlq" }
        }
        let letter = try #require(record.published.first { $0.topic == "jobs.dlq" })
        #expect(letter.id == "poison")
        #expect(letter.text == "poison")
        #expect(letter.headers[CourierHeader.faultReason] == "undecodable")
        #expect(letter.headers[CourierHeader.faultTopic] == "jobs")
        #expect(letter.headers[CourierHeader.faultConsumerGroup] == "workers")
        #expect(letter.headers[CourierHeader.faultErrorType]?.contains("UndecodableMessageError") == true)
        #expect(seen.withLock { $0 }.sorted() == ["flaky#1", "flaky#2", "ok#1", "poison#1"])
        #expect(consumer.statistics.consumed == 2)
        #expect(consumer.statistics.retried == 1)
        #expect(consumer.statistics.deadLettered == 1)
        await consumer.shutdown()
        await running.value
        await transport.shutdown()
    }
}
