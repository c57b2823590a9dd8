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
        try await expectBacklogReadPromptly(topic: "backlog", properties: ["queued.min.messages": "20"]) { batch, index in
            Envelope(topic: "backlog", text: "message \(batch)-\(index)")
        }
    }

    /// The same with librdkafka's other limit, `queued.max.messages.kbytes`: 100 messages of 1 KB are far
    /// over 20 KB while far under the message count, which the subscription watched alone before.
    @Test("a backlog many times queued.max.messages.kbytes is read without second-long pauses")
    func backlogOverTheSizeLimitIsReadWithoutPauses() async throws {
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 1024)
        try await expectBacklogReadPromptly(topic: "large", properties: ["queued.max.messages.kbytes": "20"]) { _, _ in
            Envelope(topic: "large", payload: payload)
        }
    }

    /// Publishes 8 batches of 100 messages (one record batch each), then reads them all as a group and
    /// expects every message, in order, within 3 s of the first.
    private func expectBacklogReadPromptly(
        topic: String, properties: [String: String], message: (_ batch: Int, _ index: Int) -> Envelope
    ) async throws {
        let test = try await KafkaTestCluster.start(topics: [topic: 1])
        let transport = try await test.transport(properties)
        var sent: [String] = []
        for batch in 0..<8 {
            let envelopes = (0..<100).map { message(batch, $0) }
            for outcome in await transport.publish(contentsOf: envelopes) { sent.append(try outcome.get().messageID) }
        }
        let stream = try await transport.subscribe(Subscription(topic: topic, group: "readers"))
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
