import Courier
import CourierAMQP
import Foundation
import Testing

extension AMQPIntegrationTests {
    @Suite("AMQP round trip")
    struct RoundTripTests {
        @Test("every envelope field survives publish and consume")
        func envelopeRoundTrip() async throws {
            let transport = try await TestBroker.transport()
            let topic = TestBroker.uniqueTopic("roundtrip")
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "g"))
            let sent = Envelope(
                topic: topic, payload: Array("{\"order\":7}".utf8), idempotencyKey: "order-7", orderingKey: "customer-3",
                priority: 4, headers: ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tenant": "acme"],
                contentType: "application/json", timestamp: Date(timeIntervalSince1970: 1_700_000_000.123), correlationID: "corr-1"
            )
            let confirmation = try await transport.publish(sent)
            #expect(confirmation.messageID == sent.id)
            #expect(confirmation.topic == topic)

            let received = try await take(1, from: stream)[0].envelope
            #expect(received.id == sent.id)
            #expect(received.idempotencyKey == "order-7")
            #expect(received.orderingKey == "customer-3")
            #expect(received.priority == 4)
            #expect(received.headers == sent.headers)
            #expect(received.payload == sent.payload)
            #expect(received.contentType == "application/json")
            #expect(received.correlationID == "corr-1")
            #expect(abs(received.timestamp.timeIntervalSince(sent.timestamp)) < 0.002)
            #expect(received.topic == topic)

            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()
        }
    }
}
