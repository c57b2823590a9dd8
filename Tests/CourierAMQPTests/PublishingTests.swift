import Courier
import CourierAMQP
import Foundation
import Synchronization
import Testing

extension AMQPIntegrationTests {
    @Suite("AMQP publishing")
    struct PublishingTests {
        @Test("thousands of concurrent publishes are confirmed through a small window and all consumed")
        func confirmWindowUnderLoad() async throws {
            let transport = try await TestBroker.transport("confirm-window=64&declare-groups=load")
            let topic = TestBroker.uniqueTopic("load")
            let total = 4000, publishers = 200
            let started = ContinuousClock.now
            let confirmed = try await withThrowingTaskGroup(of: [String].self) { group in
                for publisher in 0..<publishers {
                    group.addTask {
                        var ids: [String] = []
                        for index in stride(from: publisher, to: total, by: publishers) {
                            ids.append(try await transport.publish(Envelope(topic: topic, text: "message \(index)")).messageID)
                        }
                        return ids
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.formUnion($1) }
            }
            let publishSeconds = (ContinuousClock.now - started) / .seconds(1)
            #expect(confirmed.count == total)

            let stream = try await transport.subscribe(Subscription(topic: topic, group: "load", prefetch: 200))
            let received = try await take(total, from: stream).map(\.envelope.id)
            #expect(Set(received) == confirmed, "missing: \(confirmed.subtracting(received).count)")
            #expect(received.count == Set(received).count, "no duplicates without faults")
            print("confirmed \(total) publishes in \(publishSeconds) s with confirm-window=64")

            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["load"])
            await transport.shutdown()
        }

        @Test("a message no queue takes fails as unroutable, naming exchange and routing key")
        func unroutable() async throws {
            let transport = try await TestBroker.transport()
            let topic = TestBroker.uniqueTopic("unroutable")
            let error = await #expect(throws: CourierError.self) {
                try await transport.publish(Envelope(topic: topic, payload: [1], orderingKey: "key-9"))
            }
            #expect(error?.code == .unroutable)
            #expect(error?.message.contains("\"\(topic)\"") == true)
            #expect(error?.message.contains("\"key-9\"") == true)
            // The transport keeps working: the same topic with a queue bound is routable.
            _ = try await transport.subscribe(Subscription(topic: topic, group: "late"))
            _ = try await transport.publish(Envelope(topic: topic, payload: [2]))

            await TestBroker.cleanUp(transport, topic: topic, groups: ["late"])
            await transport.shutdown()
        }

        @Test("a payload above max-message-bytes and headers above the frame size fail before sending")
        func tooLarge() async throws {
            let transport = try await TestBroker.transport("max-message-bytes=1000&declare-groups=g")
            let topic = TestBroker.uniqueTopic("large")
            let payload = await #expect(throws: CourierError.self) {
                try await transport.publish(Envelope(topic: topic, payload: [UInt8](repeating: 7, count: 1001)))
            }
            #expect(payload?.code == .messageTooLarge)
            let headers = await #expect(throws: CourierError.self) {
                try await transport.publish(Envelope(topic: topic, payload: [1], headers: ["trace": String(repeating: "x", count: 200_000)]))
            }
            #expect(headers?.code == .messageTooLarge)
            #expect(headers?.message.contains("frame") == true)
            // Still usable.
            _ = try await transport.publish(Envelope(topic: topic, payload: [UInt8](repeating: 7, count: 1000)))

            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()
        }

        @Test("names over 255 bytes are refused before reaching the broker, and the connection stays up")
        func longNames() async throws {
            let transport = try await TestBroker.transport()
            let long = String(repeating: "t", count: 300)
            let topic = await #expect(throws: CourierError.self) { try await transport.publish(Envelope(topic: long, payload: [1])) }
            #expect(topic?.code == .invalidMessage)
            let key = await #expect(throws: CourierError.self) { try await transport.publish(Envelope(topic: "t", payload: [1], orderingKey: long)) }
            #expect(key?.code == .invalidMessage)
            let group = await #expect(throws: CourierError.self) { try await transport.subscribe(Subscription(topic: "t", group: long)) }
            #expect(group?.code == .invalidConfiguration)
            #expect(transport.monitor.lossCount == 0)
            await transport.shutdown()
        }

        @Test("publishing before start or after shutdown says so")
        func lifecycle() async throws {
            let transport = try TestBroker.makeTransport()
            let early = await #expect(throws: CourierError.self) { try await transport.publish(Envelope(topic: "t", payload: [])) }
            #expect(early?.code == .notStarted)
            try await transport.start()
            await transport.shutdown()
            let late = await #expect(throws: CourierError.self) { try await transport.publish(Envelope(topic: "t", payload: [])) }
            #expect(late?.code == .closed)
            await transport.waitUntilShutdown()
        }
    }
}
