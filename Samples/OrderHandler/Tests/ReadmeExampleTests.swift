import Courier
import CourierMemory
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
}
