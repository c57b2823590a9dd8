import Courier
import CourierMemory
import Foundation
import OrderHandlerSample
import Testing

/// Unit tests of a real handler against the memory transport: no broker, the same failure paths.
@Suite("OrderHandler sample", .timeLimit(.minutes(1)))
struct OrderHandlerTests {
    let broker = MemoryBroker(name: "orders-test")
    let transport: MemoryTransport
    let harness: MemoryTestHarness

    init() async throws {
        transport = MemoryTransport(broker: broker)
        harness = MemoryTestHarness(broker: broker)
        try await transport.start()
    }

    private func publish(_ order: Order) async throws {
        let envelope = Envelope(
            topic: "orders",
            payload: Array(try JSONEncoder().encode(order)),
            idempotencyKey: "order-\(order.number)",
            contentType: "application/json"
        )
        _ = try await transport.publish(envelope)
    }

    @Test("a duplicated delivery charges the customer once")
    func duplicateDeliveryChargesOnce() async throws {
        let ledger = PaymentLedger()
        let deliveries = try await transport.subscribe(Subscription(topic: "orders", group: "billing"))
        let consumer = Task { try await OrderHandler(ledger: ledger).run(deliveries) }

        broker.inject(.duplicateDeliveries(count: 1))
        try await publish(Order(number: "A-1", amountCents: 1200))
        try await publish(Order(number: "A-2", amountCents: 800))

        // Two orders plus the injected duplicate: three deliveries, all acked.
        try await harness.waitForAcks(3, topic: "orders")
        #expect(await ledger.charges.keys.sorted() == ["order-A-1", "order-A-2"])
        #expect(await ledger.charges["order-A-1"]?.amountCents == 1200)
        #expect(await ledger.duplicatesIgnored == 1)

        await transport.shutdown()
        try await consumer.value
    }

    @Test("a payload that is not an order is rejected, not redelivered, and charges nothing")
    func malformedOrderIsRejected() async throws {
        let ledger = PaymentLedger()
        let deliveries = try await transport.subscribe(Subscription(topic: "orders", group: "billing"))
        let consumer = Task { try await OrderHandler(ledger: ledger).run(deliveries) }

        _ = try await transport.publish(Envelope(topic: "orders", text: "not json"))
        try await publish(Order(number: "B-1", amountCents: 500))

        let record = try await harness.waitUntil("one reject and one ack") {
            $0.settlements(.reject).count == 1 && $0.settlements(.ack).count == 1
        }
        #expect(record.settlements(.reject).first?.envelope.text == "not json")
        #expect(record.deliveries.count == 2)
        #expect(await ledger.charges.keys.sorted() == ["order-B-1"])

        await transport.shutdown()
        try await consumer.value
    }
}
