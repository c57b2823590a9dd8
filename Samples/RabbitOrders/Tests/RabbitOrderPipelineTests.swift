import Courier
import CourierAMQP
import Foundation
import RabbitOrdersSample
import Testing

/// Needs the local RabbitMQ (`make test` starts it; or `make rabbitmq-start`).
@Suite("RabbitOrders sample")
struct RabbitOrderPipelineTests {
    static var url: String { ProcessInfo.processInfo.environment["COURIER_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/" }

    @Test("orders are charged once; a busy payment service is redelivered through a retry queue; a malformed order is dead-lettered")
    func retriesAndDeadLetters() async throws {
        let topic = "sample-orders-\(UUID().uuidString.prefix(8).lowercased())"
        let pipeline = try RabbitOrderPipeline(amqpURL: Self.url + "?declare-groups=billing", topic: topic)
        // The broker may be restarting (CourierAMQPTests restarts it in the same run): retry for a while.
        let dlq: DeliveryStream
        do {
            dlq = try await retryingWhileUnavailable {
                try await pipeline.rabbit.start()
                // Operators watch the dead-letter topic (subscribing declares its queue, so dead letters are kept).
                return try await pipeline.rabbit.subscribe(Subscription(topic: "\(topic).dlq", group: "operators"))
            }
            try await pipeline.start()
        } catch let error as CourierError where error.code == .unavailable {
            Issue.record("RabbitMQ is not reachable at \(Self.url): start it with make rabbitmq-start (\(error.message))")
            return
        }

        for index in 0..<5 { _ = try await pipeline.placeOrder(id: "order-\(index)", payload: "amount=\(100 + index)") }
        _ = try await pipeline.placeOrder(id: "flaky-1", payload: "amount=999")
        let malformed = try await pipeline.placeOrder(id: "broken-1", payload: "amount=lots")

        #expect(try await eventually { pipeline.ledger.charges.count == 6 })
        #expect(pipeline.ledger.charges["flaky-1"] == 999)
        // Fails, is retried at once, fails again, comes back from the retry queue after 300 ms and succeeds.
        #expect(pipeline.ledger.attempts["flaky-1"] == 3)

        var iterator = dlq.makeAsyncIterator()
        let dead = try #require(try await iterator.next())
        #expect(dead.envelope.id == malformed.messageID)
        #expect(dead.envelope.text == "amount=lots")
        #expect(dead.envelope.headers[CourierHeader.faultReason] == "undecodable")
        try await dead.ack()
        await dlq.close()

        if let rabbit = pipeline.rabbit as? AMQPTransport {
            for queue in ["\(topic).billing", "\(topic).billing.retry.300ms", "\(topic).dlq.operators"] { try? await rabbit.delete(.queue(queue)) }
            for exchange in [topic, "\(topic).dlq"] { try? await rabbit.delete(.exchange(exchange)) }
        }
        await pipeline.stop()
    }
}

/// Runs `body` until it does not fail with `unavailable`, for at most 60 seconds.
func retryingWhileUnavailable<T>(_ body: () async throws -> T) async throws -> T {
    let deadline = ContinuousClock.now + .seconds(60)
    while true {
        do {
            return try await body()
        } catch let error as CourierError where error.code == .unavailable && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
        }
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
