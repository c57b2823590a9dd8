import Courier
import CourierAMQP
import Foundation
import Testing

extension AMQPIntegrationTests {
    @Suite("AMQP broker options")
    struct BrokerOptionTests {
        @Test("quorum group queues count deliveries in x-delivery-count")
        func quorumQueue() async throws {
            let transport = try await TestBroker.transport("queue-type=quorum")
            let topic = TestBroker.uniqueTopic("quorum")
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "g", prefetch: 1))
            let id = try await transport.publish(Envelope(topic: topic, text: "q")).messageID
            var iterator = stream.makeAsyncIterator()
            let first = try await nextDelivery(&iterator, idle: .seconds(10))
            #expect(first.envelope.id == id)
            #expect(first.deliveryCount == 1)
            try await first.nack(requeue: true)
            let second = try await nextDelivery(&iterator, idle: .seconds(10))
            #expect(second.deliveryCount == 2)
            #expect(second.envelope.headers["x-delivery-count"] == "1")
            try await second.ack()
            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()
        }

        @Test("with max-priority, a waiting higher-priority message overtakes lower ones")
        func priorities() async throws {
            let transport = try await TestBroker.transport("max-priority=9&declare-groups=g")
            let topic = TestBroker.uniqueTopic("priority")
            for priority: UInt8 in [1, 1, 1] { _ = try await transport.publish(Envelope(topic: topic, payload: [priority], priority: priority)) }
            let urgent = try await transport.publish(Envelope(topic: topic, payload: [9], priority: 9)).messageID
            let stream = try await transport.subscribe(Subscription(topic: topic, group: "g", prefetch: 1))
            let first = try await take(1, from: stream)[0]
            #expect(first.envelope.id == urgent)
            #expect(first.envelope.priority == 9)
            await stream.close()
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()
        }

        @Test("a message above the broker's max_message_size is refused with the broker's reason, and publishing goes on")
        func brokerMessageLimit() async throws {
            // Channels read the limit when they open: set it, then connect.
            try await BrokerControl.ctl(["eval", "application:set_env(rabbit, max_message_size, 4096)."])
            let transport: AMQPTransport
            do {
                transport = try await TestBroker.transport("declare-groups=g")
            } catch {
                try? await BrokerControl.ctl(["eval", "application:set_env(rabbit, max_message_size, 134217728)."])
                throw error
            }
            try await BrokerControl.ctl(["eval", "application:set_env(rabbit, max_message_size, 134217728)."])
            let topic = TestBroker.uniqueTopic("limit")
            let error = await #expect(throws: CourierError.self) {
                try await transport.publish(Envelope(topic: topic, payload: [UInt8](repeating: 1, count: 8192)))
            }
            #expect(error?.code == .messageTooLarge)
            #expect(error?.message.contains("4096") == true, "\(error?.message ?? "")")
            // The publishing channel is reopened: smaller messages go on.
            _ = try await transport.publish(Envelope(topic: topic, payload: [UInt8](repeating: 1, count: 1024)))
            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await transport.shutdown()
        }

        @Test("a user without permission on the virtual host gets access-refused")
        func accessRefused() async throws {
            let user = "courier-test-\(UUID().uuidString.prefix(8).lowercased())"
            try await BrokerControl.ctl(["add_user", user, "secret-pw"])
            // The broker under test (COURIER_AMQP_URL), with the new user's credentials.
            let broker = URLComponents(string: TestBroker.url)
            let address = "\(broker?.host ?? "127.0.0.1"):\(broker?.port ?? 5672)"
            let transport = try TestBroker.makeTransport(url: "amqp://\(user):secret-pw@\(address)/")
            let error = await #expect(throws: CourierError.self) { try await transport.start() }
            try await BrokerControl.ctl(["delete_user", user])
            #expect(error?.code == .accessRefused)
            #expect(error?.message.contains(user) == true)
            #expect(error?.description.contains("secret-pw") == false)
            await transport.shutdown()
        }
    }
}
