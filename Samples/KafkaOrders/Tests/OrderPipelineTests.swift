import Courier
import CourierKafka
import Foundation
import KafkaOrdersSample
import Testing

@Suite("KafkaOrders sample")
struct OrderPipelineTests {
    /// Kafka on librdkafka's mock cluster, with timeouts short enough for a test.
    static func url(_ cluster: KafkaMockCluster) -> String {
        cluster.url([
            "message.timeout.ms": "1500", "linger.ms": "1", "fetch.wait.max.ms": "50",
            "session.timeout.ms": "3000", "heartbeat.interval.ms": "300", "auto.commit.interval.ms": "200",
        ])
    }

    @Test("orders are charged once; a busy payment service is retried; a malformed order is dead-lettered")
    func retriesAndDeadLetters() async throws {
        let cluster = try KafkaMockCluster(brokers: 3)
        defer { cluster.close() }
        try cluster.createTopic("orders", partitions: 3)
        let pipeline = try OrderPipeline(kafkaURL: Self.url(cluster))
        try await pipeline.start()

        for index in 0..<5 { _ = try await pipeline.placeOrder(id: "order-\(index)", payload: "amount=\(100 + index)") }
        _ = try await pipeline.placeOrder(id: "flaky-1", payload: "amount=999")
        let malformed = try await pipeline.placeOrder(id: "broken-1", payload: "amount=lots")

        #expect(try await eventually { pipeline.ledger.charges.count == 6 })
        #expect(pipeline.ledger.charges["flaky-1"] == 999)
        // Fails, is retried at once, fails again, comes back from the Kafka retry topic and succeeds.
        #expect(pipeline.ledger.attempts["flaky-1"] == 3)

        // The malformed order sits in orders.dlq, unchanged, with fault headers.
        let dlq = try await pipeline.kafka.subscribe(Subscription(topic: "orders.dlq", group: "operators"))
        var iterator = dlq.makeAsyncIterator()
        let dead = try #require(try await iterator.next())
        #expect(dead.envelope.id == malformed.messageID)
        #expect(dead.envelope.text == "amount=lots")
        #expect(dead.envelope.headers[CourierHeader.faultReason] == "undecodable")
        try await dead.ack()
        await dlq.close()
        await pipeline.stop()
    }

    @Test("with Kafka down, orders fail over to the fallback transport and are still charged")
    func failover() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        defer { cluster.close() }
        try cluster.createTopic("orders", partitions: 1)
        let pipeline = try OrderPipeline(kafkaURL: Self.url(cluster))
        try await pipeline.start()
        _ = try await pipeline.placeOrder(id: "before", payload: "amount=1")

        try cluster.setBrokerDown(1)
        let receipt = try await pipeline.placeOrder(id: "during", payload: "amount=2")
        #expect(receipt.transport == pipeline.fallback.name)
        try cluster.setBrokerUp(1)

        #expect(try await eventually { pipeline.ledger.charges.count == 2 })
        #expect(pipeline.ledger.charges == ["before": 1, "during": 2])
        await pipeline.stop()
    }
}

/// Waits until `condition` holds, for at most 20 seconds.
func eventually(_ condition: () -> Bool) async throws -> Bool {
    for _ in 0..<200 {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return condition()
}
