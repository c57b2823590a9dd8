import Courier
import Testing
@testable import CourierKafka

@Suite("Kafka round trip on the mock cluster")
struct RoundTripTests {
    @Test("headers, keys and payloads survive the trip; confirmations carry partition and offset")
    func roundTrip() async throws {
        let test = try await KafkaTestCluster.start(topics: ["orders": 3])
        let transport = try await test.transport()
        var sent: [Envelope] = []
        for index in 0..<20 {
            let envelope = Envelope(
                topic: "orders", payload: Array("order \(index)".utf8),
                idempotencyKey: "order-\(index)", orderingKey: "customer-\(index % 4)",
                headers: ["traceparent": "00-\(index)-01", "index": String(index)],
                contentType: "text/plain", correlationID: "corr-\(index)"
            )
            let confirmation = try await transport.publish(envelope)
            #expect(confirmation.messageID == envelope.id)
            #expect(confirmation.partition != nil && confirmation.offset != nil)
            sent.append(envelope)
        }
        let stream = try await transport.subscribe(Subscription(topic: "orders", group: "billing"))
        let received = try await receive(stream, count: 20)
        await stream.close()
        #expect(received.count == 20)
        let byID = Dictionary(uniqueKeysWithValues: received.map { ($0.envelope.id, $0) })
        for envelope in sent {
            let delivery = try #require(byID[envelope.id])
            #expect(delivery.envelope.payload == envelope.payload)
            #expect(delivery.envelope.headers == envelope.headers)
            #expect(delivery.envelope.idempotencyKey == envelope.idempotencyKey)
            #expect(delivery.envelope.orderingKey == envelope.orderingKey)
            #expect(delivery.envelope.correlationID == envelope.correlationID)
            #expect(delivery.envelope.contentType == "text/plain")
            #expect(delivery.source.topic == "orders")
            #expect(delivery.source.group == "billing")
            #expect(delivery.deliveryCount == 1)
        }
        await test.close()
    }

    @Test("messages with one ordering key are consumed in publish order")
    func perKeyOrder() async throws {
        let test = try await KafkaTestCluster.start(topics: ["ledger": 4])
        let transport = try await test.transport()
        let keys = ["alice", "bob", "carol", "dave", "erin"]
        _ = try await publish(transport, topic: "ledger", count: 200) { keys[$0 % keys.count] }
        let stream = try await transport.subscribe(Subscription(topic: "ledger", group: "audit", prefetch: 64))
        let received = try await receive(stream, count: 200)
        await stream.close()
        #expect(received.count == 200)
        var perKey: [String: [Int]] = [:]
        for delivery in received {
            let index = Int(delivery.envelope.headers["index"] ?? "") ?? -1
            perKey[delivery.envelope.orderingKey ?? "", default: []].append(index)
        }
        #expect(perKey.count == keys.count)
        for (key, indexes) in perKey {
            #expect(indexes == indexes.sorted(), "key \(key) out of order")
        }
        await test.close()
    }
}
