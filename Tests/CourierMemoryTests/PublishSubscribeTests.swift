import Courier
import CourierMemory
import Foundation
import Testing

@Suite("Memory transport: publish and subscribe", .timeLimit(.minutes(1)))
struct PublishSubscribeTests {
    @Test func everyEnvelopeFieldRoundTrips() async throws {
        let fixture = try await MemoryFixture()
        let stream = try await fixture.subscribe(group: "billing")
        var deliveries = stream.makeAsyncIterator()
        let sent = Envelope(
            topic: "orders",
            payload: [0, 1, 2, 0xFF, 0x7F],
            id: "order-42",
            idempotencyKey: "business-key-42",
            orderingKey: "customer-7",
            priority: 5,
            headers: ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tenant": "acme"],
            contentType: "application/octet-stream",
            timestamp: Date(timeIntervalSince1970: 1_700_000_000.5),
            correlationID: "request-9"
        )

        let confirmation = try await fixture.transport.publish(sent)

        #expect(confirmation == PublishConfirmation(
            messageID: "order-42", transport: fixture.transport.name, topic: "orders", partition: nil, offset: 0
        ))
        let delivery = try await deliveries.take()
        #expect(delivery.envelope == sent)
        #expect(delivery.envelope.headers["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(delivery.deliveryCount == 1)
        #expect(!delivery.isRedelivery)
        #expect(delivery.source == DeliverySource(
            transport: fixture.transport.name, topic: "orders", group: "billing", partition: nil, offset: 0
        ))
        try await delivery.ack()
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
        await stream.close()
    }

    @Test func confirmationsCountOffsetsPerTopic() async throws {
        let fixture = try await MemoryFixture()
        var offsets: [String: [Int64?]] = [:]
        for (index, topic) in ["a", "b", "a", "a", "b"].enumerated() {
            let confirmation = try await fixture.transport.publish(.text("m\(index)", topic: topic))
            #expect(confirmation.messageID == "m\(index)")
            #expect(confirmation.topic == topic)
            offsets[topic, default: []].append(confirmation.offset)
        }
        #expect(offsets["a"] == [0, 1, 2])
        #expect(offsets["b"] == [0, 1])
        #expect(fixture.broker.retainedCount(topic: "a") == 3)
        #expect(fixture.broker.retainedCount(topic: "b") == 2)
    }

    @Test func confirmationNamesTheTransportThatPublished() async throws {
        let fixture = try await MemoryFixture()
        let other = try await fixture.secondTransport(name: "orders-primary")
        let confirmation = try await other.publish(.text("m1"))
        #expect(confirmation.transport == "orders-primary")
        #expect(fixture.transport.name == "memory://\(fixture.broker.name)")
    }

    @Test func deliveriesArriveInPublishOrderWithoutKeys() async throws {
        let fixture = try await MemoryFixture()
        let stream = try await fixture.subscribe(prefetch: 100)
        var deliveries = stream.makeAsyncIterator()
        let ids = (1...20).map { "m\($0)" }
        for id in ids { try await fixture.publish(id) }

        var received: [String] = []
        for _ in ids {
            let delivery = try await deliveries.take()
            received.append(delivery.envelope.id)
            try await delivery.ack()
        }
        #expect(received == ids)
    }

    @Test func publisherAndConsumerOnDifferentTransportsShareTheBroker() async throws {
        let fixture = try await MemoryFixture()
        let consumerSide = try await fixture.secondTransport(name: "consumer")
        let stream = try await consumerSide.subscribe(Subscription(topic: "orders", group: "g"))
        var deliveries = stream.makeAsyncIterator()

        try await fixture.publish("m1")

        let delivery = try await deliveries.take()
        #expect(delivery.envelope.id == "m1")
        // Built when asked, from what the subscription knows: every field as the broker handed it out.
        #expect(delivery.source == DeliverySource(transport: "consumer", topic: "orders", group: "g", offset: 0))
        try await fixture.publish("m2")
        #expect(try await deliveries.take().source.offset == 1)
        try await delivery.ack()
    }

    @Test func topicsAreIsolated() async throws {
        let fixture = try await MemoryFixture()
        let orders = ackingConsumer(try await fixture.subscribe(topic: "orders", group: "g"))
        let invoices = ackingConsumer(try await fixture.subscribe(topic: "invoices", group: "g"))
        for index in 1...5 {
            try await fixture.publish("order-\(index)", topic: "orders")
            try await fixture.publish("invoice-\(index)", topic: "invoices")
        }
        try await fixture.harness.waitForAcks(10)
        await fixture.transport.shutdown()

        let orderIDs = await orders.value
        let invoiceIDs = await invoices.value
        #expect(orderIDs.ids == (1...5).map { "order-\($0)" })
        #expect(invoiceIDs.ids == (1...5).map { "invoice-\($0)" })
        #expect(orderIDs.error == nil)
        #expect(invoiceIDs.error == nil)
    }
}
