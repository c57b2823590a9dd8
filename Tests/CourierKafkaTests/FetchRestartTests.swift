import Courier
import Foundation
import Testing
@testable import CourierKafka

@Suite("Kafka consumer: fetching goes on after librdkafka's queue filled up")
struct FetchRestartTests {
    /// librdkafka 2.0 stops fetching once `queued.min.messages` are queued and, left alone, looks again
    /// only up to a second later. Here every fetch brings one record batch of 100 messages, far over the
    /// threshold of 20, so without the subscription waking the fetchers each batch after the first would
    /// wait for that second.
    @Test("a backlog many times queued.min.messages is read without second-long pauses")
    func backlogIsReadWithoutPauses() async throws {
        let test = try await KafkaTestCluster.start(topics: ["backlog": 1])
        let transport = try await test.transport(["queued.min.messages": "20"])
        var sent: [String] = []
        for batch in 0..<8 {
            let envelopes = (0..<100).map { Envelope(topic: "backlog", text: "message \(batch)-\($0)") }
            for outcome in await transport.publish(contentsOf: envelopes) { sent.append(try outcome.get().messageID) }
        }
        let stream = try await transport.subscribe(Subscription(topic: "backlog", group: "readers"))
        var iterator = stream.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        try await first.ack()
        let start = ContinuousClock.now
        var received = [first.envelope.id]
        while received.count < sent.count, let delivery = try await iterator.next() {
            received.append(delivery.envelope.id)
            try await delivery.ack()
        }
        let elapsed = ContinuousClock.now - start
        #expect(received == sent)
        // Left to librdkafka's own wait this takes about 7 s (one pause per batch after the first).
        #expect(elapsed < .seconds(3), "reading the backlog took \(elapsed)")
        await stream.close()
        await test.close()
    }

    /// The same with librdkafka's other limit, `queued.max.messages.kbytes`: 100 messages of 1 KB are far
    /// over 20 KB while far under the message count, which the subscription watched alone before.
    @Test("a backlog many times queued.max.messages.kbytes is read without second-long pauses")
    func backlogOverTheSizeLimitIsReadWithoutPauses() async throws {
        let test = try await KafkaTestCluster.start(topics: ["large": 1])
        let transport = try await test.transport(["queued.max.messages.kbytes": "20"])
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 1024)
        var sent: [String] = []
        for _ in 0..<8 {
            let envelopes = (0..<100).map { _ in Envelope(topic: "large", payload: payload) }
            for outcome in await transport.publish(contentsOf: envelopes) { sent.append(try outcome.get().messageID) }
        }
        let stream = try await transport.subscribe(Subscription(topic: "large", group: "readers"))
        var iterator = stream.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        try await first.ack()
        let start = ContinuousClock.now
        var received = [first.envelope.id]
        while received.count < sent.count, let delivery = try await iterator.next() {
            received.append(delivery.envelope.id)
            try await delivery.ack()
        }
        let elapsed = ContinuousClock.now - start
        #expect(received == sent)
        // Left to librdkafka's own wait this takes about 7 s (one pause per batch after the first).
        #expect(elapsed < .seconds(3), "reading the backlog took \(elapsed)")
        await stream.close()
        await test.close()
    }
}
