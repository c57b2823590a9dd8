import Courier
import Foundation
import Testing
@testable import CourierKafka

@Suite("Kafka requeue and delayed redelivery")
struct RetryTopicTests {
    @Test("nack with requeue brings a message back to the group through its retry topic")
    func requeueThroughRetryTopic() async throws {
        let test = try await KafkaTestCluster.start(topics: ["tasks": 2])
        let transport = try await test.transport()
        let sent = try await publish(transport, topic: "tasks", count: 10)
        let stream = try await transport.subscribe(Subscription(topic: "tasks", group: "workers"))
        let nacked = ConfirmedIDs()
        let received = try await receive(stream, count: 13) { delivery in
            if delivery.index < 3, !delivery.isRedelivery {
                nacked.add(delivery.envelope.id)
                try await delivery.nack(requeue: true)
            } else {
                try await delivery.ack()
            }
        }
        await stream.close()
        let redelivered = received.filter(\.isRedelivery)
        #expect(received.count == 13)
        #expect(Set(received.map(\.envelope.id)) == Set(sent.map(\.messageID)))
        #expect(Set(redelivered.map(\.envelope.id)) == nacked.ids)
        for delivery in redelivered {
            #expect(delivery.deliveryCount == 2)
            #expect(delivery.envelope.topic == "tasks")
            #expect(delivery.source.topic == "tasks")
            #expect(delivery.envelope.headers[KafkaRetryTopic.dueHeader] == nil)
        }
        let retryTopic = KafkaRetryTopic.name(topic: "tasks", group: "workers")
        #expect(retryTopic == "tasks.retry.workers")
        await test.close()
    }

    @Test("redeliver(after:headers:) waits at least the delay, merges the headers, and survives a consumer restart")
    func delayedRedeliverySurvivesRestart() async throws {
        let test = try await KafkaTestCluster.start(topics: ["invoices": 1])
        let first = try await test.transport()
        let sent = try await publish(first, topic: "invoices", count: 1)
        let stream = try await first.subscribe(Subscription(topic: "invoices", group: "mailer"))
        let original = try #require(try await receive(stream, count: 1) { _ in }.first)
        let settledAt = Date()
        try await original.redeliver(after: .seconds(2), headers: [CourierHeader.attempt: "1"])
        // The original is settled; a new member of the group must get the copy, not the original.
        await first.shutdown()

        let second = try await test.transport()
        let again = try await second.subscribe(Subscription(topic: "invoices", group: "mailer"))
        let copy = try #require(try await receive(again, count: 1, idle: .seconds(10)).first)
        #expect(Date().timeIntervalSince(settledAt) >= 1.9)
        #expect(copy.envelope.id == sent[0].messageID)
        #expect(copy.envelope.headers[CourierHeader.attempt] == "1")
        #expect(copy.envelope.headers["index"] == "0")
        #expect(copy.deliveryCount == 2)
        #expect(copy.envelope.text == "message 0")
        // Nothing else: the original offset was committed.
        let more = try await receive(again, count: 1, idle: .seconds(2))
        #expect(more.isEmpty)
        await test.close()
    }

    @Test("a delayed copy does not hold up other messages of the main topic")
    func delayDoesNotBlockMainTopic() async throws {
        let test = try await KafkaTestCluster.start(topics: ["mail": 1])
        let transport = try await test.transport()
        _ = try await publish(transport, topic: "mail", count: 1)
        let stream = try await transport.subscribe(Subscription(topic: "mail", group: "senders"))
        let first = try #require(try await receive(stream, count: 1) { _ in }.first)
        try await first.redeliver(after: .seconds(3))
        let later = try await publish(transport, topic: "mail", count: 5)
        let start = Date()
        let fresh = try await receive(stream, count: 5)
        #expect(Set(fresh.map(\.envelope.id)) == Set(later.map(\.messageID)))
        #expect(Date().timeIntervalSince(start) < 2.5)
        let copy = try await receive(stream, count: 1, idle: .seconds(8))
        #expect(copy.first?.envelope.id == first.envelope.id)
        await test.close()
    }

    @Test("a member that joins later starts the retry topic at the group's committed offset")
    func retryTopicStartsAtCommittedOffset() async throws {
        let test = try await KafkaTestCluster.start(topics: ["orders": 1])
        let first = try await test.transport()
        let sent = try await publish(first, topic: "orders", count: 1)
        let stream = try await first.subscribe(Subscription(topic: "orders", group: "pickers"))
        // The original is requeued; its copy, read from the retry topic, is acked.
        let received = try await receive(stream, count: 2) { delivery in
            if delivery.isRedelivery { try await delivery.ack() } else { try await delivery.nack(requeue: true) }
        }
        #expect(received.map(\.envelope.id) == [sent[0].messageID, sent[0].messageID])
        await stream.close()
        await first.shutdown()

        let second = try await test.transport()
        let later = try await publish(second, topic: "orders", count: 1)
        let again = try await second.subscribe(Subscription(topic: "orders", group: "pickers"))
        #expect(try await receive(again, count: 1).map(\.envelope.id) == [later[0].messageID])
        // Its retry partition was paused before its first fetch and resumed after the start delay: it
        // must go on from the committed offset, not read the acked copy again.
        let more = try await receive(again, count: 1, idle: KafkaSubscription.retryTopicStartDelay + .seconds(2))
        #expect(more.isEmpty)
        await test.close()
    }

    @Test("a private subscription redelivers in process, after the delay")
    func privateSubscriptionRedeliversInProcess() async throws {
        let test = try await KafkaTestCluster.start(topics: ["alerts": 1])
        let transport = try await test.transport()
        let sent = try await publish(transport, topic: "alerts", count: 2)
        let stream = try await transport.subscribe(Subscription(topic: "alerts"))
        let start = Date()
        let received = try await receive(stream, count: 4) { delivery in
            switch (delivery.index, delivery.deliveryCount) {
            case (0, 1): try await delivery.nack(requeue: true)
            case (1, 1): try await delivery.redeliver(after: .milliseconds(800), headers: ["why": "later"])
            default: try await delivery.ack()
            }
        }
        #expect(received.count == 4)
        #expect(received.filter(\.isRedelivery).count == 2)
        let delayed = try #require(received.last { $0.index == 1 })
        #expect(delayed.deliveryCount == 2 && delayed.envelope.headers["why"] == "later")
        #expect(Date().timeIntervalSince(start) >= 0.75)
        #expect(Set(received.map(\.envelope.id)) == Set(sent.map(\.messageID)))
        await test.close()
    }

    @Test("settling twice is an invalid settlement")
    func doubleSettle() async throws {
        let test = try await KafkaTestCluster.start(topics: ["once": 1])
        let transport = try await test.transport()
        _ = try await publish(transport, topic: "once", count: 1)
        let stream = try await transport.subscribe(Subscription(topic: "once", group: "g"))
        let delivery = try #require(try await receive(stream, count: 1).first)
        let error = await #expect(throws: CourierError.self) { try await delivery.ack() }
        #expect(error?.code == .invalidSettlement)
        await test.close()
    }
}
