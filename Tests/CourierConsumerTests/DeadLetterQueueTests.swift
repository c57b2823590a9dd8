import Courier
import CourierMemory
import Foundation
import Testing

@Suite("dead-letter queue: list and replay", .timeLimit(.minutes(1)))
struct DeadLetterQueueTests {
    /// A transport whose `orders.dlq` holds two dead letters written by a real consumer.
    private func transportWithDeadLetters() async throws -> MemoryTransport {
        let transport = MemoryTransport(broker: MemoryBroker(name: "dlq-\(Envelope.makeID())"), name: "memory")
        try await transport.start()
        let harness = MemoryTestHarness(broker: transport.broker)
        let consumer = try Consumer(
            transports: [transport],
            configuration: ConsumerConfiguration(topic: "orders", group: "billing")
        ) { message in
            throw UndecodableMessageError("bad order \(message.envelope.id)")
        }
        let running = Task { await consumer.run() }
        for id in ["a", "b"] {
            _ = try await transport.publish(Envelope(topic: "orders", text: id, id: id, headers: ["traceparent": "00-\(id)"]))
        }
        try await harness.waitUntil("two dead letters") { record in record.published.filter { $0.topic == "orders.dlq" }.count == 2 }
        await consumer.shutdown()
        await running.value
        return transport
    }

    @Test("list shows every dead letter with its fault headers and removes none")
    func listKeepsEverything() async throws {
        let transport = try await transportWithDeadLetters()
        let queue = DeadLetterQueue(transport: transport, topic: "orders.dlq", idleTimeout: .milliseconds(100))
        let first = try await queue.list()
        #expect(first.map(\.envelope.id).sorted() == ["a", "b"])
        #expect(first.allSatisfy { $0.reason == "undecodable" && $0.originalTopic == "orders" && $0.attempts == 1 })
        #expect(first.allSatisfy { $0.errorMessage.hasPrefix("bad order") })
        let second = try await queue.list()
        #expect(second.count == 2, "listing must not consume")
        await transport.shutdown()
    }

    @Test("replay republishes the chosen one to its topic, cleaned and marked, and removes only it")
    func replayOne() async throws {
        let transport = try await transportWithDeadLetters()
        let queue = DeadLetterQueue(transport: transport, topic: "orders.dlq", idleTimeout: .milliseconds(100))
        let replayed = try await queue.replay(selecting: { $0.envelope.id == "b" })
        #expect(replayed == ["b"])
        #expect(try await queue.list().map(\.envelope.id) == ["a"])

        let stream = try await transport.subscribe(Subscription(topic: "orders", group: "after-replay"))
        var iterator = stream.makeAsyncIterator()
        var seen: [Envelope] = []
        while seen.count < 3, let delivery = try await iterator.next() {
            seen.append(delivery.envelope)
            try await delivery.ack()
        }
        let again = try #require(seen.last)
        #expect(again.id == "b")
        #expect(again.text == "b")
        #expect(again.headers["traceparent"] == "00-b")
        #expect(again.headers[CourierHeader.replayedAt] != nil)
        #expect(again.headers.keys.allSatisfy { !$0.hasPrefix("courier-fault-") && $0 != CourierHeader.attempt })
        await stream.close()
        await transport.shutdown()
    }

    @Test("replayCopy keeps id, key, payload and foreign headers")
    func replayCopy() {
        let original = Envelope(
            topic: "orders.dlq", payload: [1, 2], id: "m", idempotencyKey: "k",
            headers: ["x": "1", CourierHeader.attempt: "3", CourierHeader.faultReason: "r"]
        )
        let copy = DeadLetterQueue.replayCopy(of: original, to: "orders", at: Date(timeIntervalSince1970: 0))
        #expect(copy.topic == "orders")
        #expect(copy.id == "m" && copy.idempotencyKey == "k" && copy.payload == [1, 2])
        #expect(copy.headers == ["x": "1", CourierHeader.replayedAt: "1970-01-01T00:00:00Z"])
    }
}
