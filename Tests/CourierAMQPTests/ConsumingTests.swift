import Courier
import CourierAMQP
import Foundation
import Synchronization
import Testing

extension AMQPIntegrationTests {
    @Suite("AMQP consuming")
    struct ConsumingTests {
        @Test("requeue delivers again, reject drops, ack settles")
        func requeueRejectAck() async throws {
            let transport = try await TestBroker.transport()
            let topic = TestBroker.uniqueTopic("settle")
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "g", prefetch: 1))
            let requeued = try await transport.publish(Envelope(topic: topic, text: "requeue me")).messageID
            let rejected = try await transport.publish(Envelope(topic: topic, text: "reject me")).messageID

            var iterator = stream.makeAsyncIterator()
            let first = try await nextDelivery(&iterator, idle: .seconds(5))
            #expect(first.envelope.id == requeued)
            #expect(!first.isRedelivery)
            try await first.nack(requeue: true)
            let again = try await nextDelivery(&iterator, idle: .seconds(5))
            #expect(again.envelope.id == requeued)
            #expect(again.isRedelivery)
            try await again.ack()
            let second = try await nextDelivery(&iterator, idle: .seconds(5))
            #expect(second.envelope.id == rejected)
            try await second.reject()
            // Settling twice is refused.
            await #expect(throws: CourierError.self) { try await second.ack() }

            let last = try await transport.publish(Envelope(topic: topic, text: "last")).messageID
            let third = try await nextDelivery(&iterator, idle: .seconds(5))
            #expect(third.envelope.id == last, "the rejected message must not come back")
            try await third.ack()

            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()
        }

        @Test("two groups each get every message; members of one group share them")
        func consumerGroups() async throws {
            let transport = try await TestBroker.transport()
            let topic = TestBroker.uniqueTopic("groups")
            let audit = try await transport.subscribe(Subscription(topic: topic, group: "audit"))
            let billingA = try await transport.subscribe(Subscription(topic: topic, group: "billing", prefetch: 1))
            let billingB = try await transport.subscribe(Subscription(topic: topic, group: "billing", prefetch: 1))
            var sent: Set<String> = []
            for index in 0..<40 { sent.insert(try await transport.publish(Envelope(topic: topic, text: "m\(index)")).messageID) }

            let auditIDs = try await take(40, from: audit).map(\.envelope.id)
            #expect(Set(auditIDs) == sent)

            let shared = SharedIDs()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (member, stream) in [("a", billingA), ("b", billingB)] {
                    group.addTask {
                        for try await delivery in stream {
                            try await Task.sleep(for: .milliseconds(5))
                            try await delivery.ack()
                            let total = shared.ids.withLock { state -> Int in
                                state[member, default: []].append(delivery.envelope.id)
                                return state.values.reduce(0) { $0 + $1.count }
                            }
                            if total == 40 { break }
                        }
                    }
                }
                try await within(.seconds(20), "billing members to share 40 messages") {
                    while shared.ids.withLock({ $0.values.reduce(0) { $0 + $1.count } }) < 40 { try await Task.sleep(for: .milliseconds(20)) }
                }
                group.cancelAll()
            }
            let members = shared.ids.withLock { $0 }
            let billingIDs = members.values.flatMap { $0 }
            #expect(Set(billingIDs) == sent)
            #expect(billingIDs.count == 40, "no message went to both members")
            #expect(members["a", default: []].count > 0 && members["b", default: []].count > 0, "both members got a share: \(members.mapValues(\.count))")

            for stream in [audit, billingA, billingB] { await stream.close() }
            await TestBroker.cleanUp(transport, topic: topic, groups: ["audit", "billing"])
            await transport.shutdown()
        }

        @Test("redeliver(after:) brings the message back to the group after the delay, with merged headers")
        func delayedRedelivery() async throws {
            let transport = try await TestBroker.transport()
            let topic = TestBroker.uniqueTopic("delay")
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "g"))
            let id = try await transport.publish(Envelope(topic: topic, text: "later", headers: ["tenant": "acme"])).messageID

            var iterator = stream.makeAsyncIterator()
            let first = try await nextDelivery(&iterator, idle: .seconds(5))
            let settledAt = ContinuousClock.now
            try await first.redeliver(after: .milliseconds(400), headers: [CourierHeader.attempt: "1"])
            let again = try await nextDelivery(&iterator, idle: .seconds(10))
            let waited = ContinuousClock.now - settledAt
            #expect(again.envelope.id == id)
            #expect(again.envelope.headers[CourierHeader.attempt] == "1")
            #expect(again.envelope.headers["tenant"] == "acme")
            #expect(again.envelope.text == "later")
            #expect(waited >= .milliseconds(380), "came back after \(waited)")
            try await again.ack()

            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"], queues: ["\(topic).g.retry.400ms"])
            await transport.shutdown()
        }

        @Test("a private subscription gets messages published while it exists, and its queue goes with it")
        func privateSubscription() async throws {
            let transport = try await TestBroker.transport()
            let topic = TestBroker.uniqueTopic("private")
            let stream = try await transport.subscribe(Subscription(topic: topic))
            let id = try await transport.publish(Envelope(topic: topic, text: "hello")).messageID
            let delivery = try await take(1, from: stream)[0]
            #expect(delivery.envelope.id == id)
            #expect(delivery.source.group == nil)
            await stream.close()
            // The exclusive queue is gone, so nothing takes the next message.
            await #expect(throws: CourierError.self) { try await transport.publish(Envelope(topic: topic, text: "nobody")) }
            await TestBroker.cleanUp(transport, topic: topic)
            await transport.shutdown()
        }

        @Test("a message published by another AMQP client (amqp-publish) is consumed with a derived id")
        func foreignMessage() async throws {
            let transport = try await TestBroker.transport()
            let topic = TestBroker.uniqueTopic("foreign")
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "g", prefetch: 1))
            // amqp-tools reads an empty path after "/" as the vhost "", so the URL goes without it.
            let url = TestBroker.url.hasSuffix("/") ? String(TestBroker.url.dropLast()) : TestBroker.url
            try runTool("/usr/bin/amqp-publish", ["-u", url, "-e", topic, "-r", "orders", "-b", "plain body", "-H", "origin: legacy"])

            var iterator = stream.makeAsyncIterator()
            let first = try await nextDelivery(&iterator, idle: .seconds(5))
            #expect(first.envelope.id.hasPrefix("amqp-"))
            #expect(first.envelope.idempotencyKey == first.envelope.id)
            #expect(first.envelope.text == "plain body")
            #expect(first.envelope.headers["origin"] == "legacy")
            try await first.nack(requeue: true)
            let again = try await nextDelivery(&iterator, idle: .seconds(5))
            #expect(again.envelope.id == first.envelope.id, "the derived id is stable across redeliveries")
            try await again.ack()

            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()
        }
    }
}

/// Message ids per group member, filled by concurrent readers.
final class SharedIDs: Sendable {
    let ids = Mutex<[String: [String]]>([:])
}

/// Runs a command-line tool and fails with its output when it exits non-zero.
func runTool(_ path: String, _ arguments: [String]) throws {
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TimedOut(description: "\(path) is missing; run .ci/install-deps (it installs amqp-tools and openssl)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try ChildProcessLaunch.run { try process.run() }
    process.waitUntilExit()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    if process.terminationStatus != 0 {
        throw TimedOut(description: "\(path) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text)")
    }
}
