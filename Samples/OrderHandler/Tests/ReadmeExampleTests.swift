import Courier
import CourierMemory
import CourierSQLite
import Foundation
import Testing

/// The README's twenty-line example, verbatim, so it cannot rot.
@Suite("README example", .timeLimit(.minutes(1)))
struct ReadmeExampleTests {
    @Test func chargesEachOrderOnce() async throws {
        let broker = MemoryBroker(name: "tests")
        let transport = MemoryTransport(broker: broker)
        let harness = MemoryTestHarness(broker: broker)
        try await transport.start()

        let deliveries = try await transport.subscribe(Subscription(topic: "orders", group: "billing"))
        let consumer = Task {
            for try await delivery in deliveries {
                // ... your handler ...
                try await delivery.ack()
            }
        }
        broker.inject(.duplicateDeliveries(count: 1))           // a scripted broker fault
        _ = try await transport.publish(Envelope(topic: "orders", text: "order 1"))

        try await harness.waitForAcks(2, topic: "orders")       // the message and its duplicate
        await transport.shutdown()
        try await consumer.value
    }

    /// The README's producer snippet, with memory transports standing in for Kafka and RabbitMQ.
    @Test func producerSnippet() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let kafka = MemoryTransport(broker: MemoryBroker(name: "kafka-stand-in"), name: "kafka")
        let rabbit = MemoryTransport(broker: MemoryBroker(name: "rabbit-stand-in"), name: "rabbit")
        try await kafka.start()
        try await rabbit.start()
        let bytes: [UInt8] = Array("order".utf8)

        let spool = try await SQLiteSpool.open(path: path)
        let producer = Producer(transports: [kafka, rabbit], spool: spool)   // in order of preference
        let relay = Task { try await producer.run() }                         // drains the spool in the background

        let receipt = try await producer.publish(Envelope(topic: "orders", payload: bytes, idempotencyKey: "order-1042"))
        switch receipt.outcome {
        case .confirmed(let confirmation): #expect(confirmation.transport == "kafka")
        case .spooled: Issue.record("nothing is down, yet the message was spooled")
        }
        #expect(receipt.idempotencyKey == "order-1042")

        await producer.shutdown()
        try await relay.value
        await spool.close()
    }
}
