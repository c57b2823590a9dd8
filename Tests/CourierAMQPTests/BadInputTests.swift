import Courier
import CourierAMQP
import Testing

extension AMQPIntegrationTests {
    @Suite("AMQP bad input")
    struct BadInputTests {
        @Test("an unreachable host is a retriable unavailable error naming the address")
        func unreachable() async throws {
            let transport = try TestBroker.makeTransport(url: "amqp://guest:guest@127.0.0.1:1/")
            let error = await #expect(throws: CourierError.self) { try await transport.start() }
            #expect(error?.code == .unavailable)
            #expect(error?.isRetriable == true)
            #expect(error?.message.contains("127.0.0.1:1") == true)
            await transport.shutdown()
        }

        @Test("a wrong password is an authentication error naming the user, without the password")
        func wrongCredentials() async throws {
            let transport = try TestBroker.makeTransport(url: "amqp://guest:hunter2@127.0.0.1:5672/")
            let error = await #expect(throws: CourierError.self) { try await transport.start() }
            #expect(error?.code == .authenticationFailed)
            #expect(error?.message.contains("\"guest\"") == true)
            #expect(error?.description.contains("hunter2") == false)
            await transport.shutdown()
        }

        @Test("an unknown virtual host is named in the error")
        func wrongVhost() async throws {
            let transport = try TestBroker.makeTransport(url: "amqp://guest:guest@127.0.0.1:5672/no-such-vhost")
            let error = await #expect(throws: CourierError.self) { try await transport.start() }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains("no-such-vhost") == true)
            await transport.shutdown()
        }

        @Test("redeclaring an exchange with another type is a clear error and the transport keeps working")
        func accessAndPrecondition() async throws {
            let transport = try await TestBroker.transport()
            let topic = TestBroker.uniqueTopic("type")
            _ = try await transport.subscribe(Subscription(topic: topic, group: "g"))
            let fanout = try await TestBroker.transport("exchange-type=fanout")
            let error = await #expect(throws: CourierError.self) { try await fanout.publish(Envelope(topic: topic, payload: [1])) }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains(topic) == true)
            // Publishing to the default exchange's reserved names is refused by the broker: access refused.
            let reserved = await #expect(throws: CourierError.self) { try await fanout.publish(Envelope(topic: "amq.courier-test", payload: [1])) }
            #expect(reserved?.code == .accessRefused)
            _ = try await transport.publish(Envelope(topic: topic, payload: [2]))

            await TestBroker.cleanUp(transport, topic: topic, groups: ["g"])
            await fanout.shutdown()
            await transport.shutdown()
        }

        @Test("unknown options and bad values are refused before connecting", arguments: [
            ("amqp://127.0.0.1/?prefetch=3", "unknown option \"prefetch\""),
            ("amqp://127.0.0.1/?heartbeat=-1", "heartbeat"),
            ("amqp://127.0.0.1/?queue-type=stream", "queue-type"),
            ("amqp://127.0.0.1/?persistent=maybe", "persistent"),
            ("amqp://127.0.0.1/?cacert=/tmp/ca.pem", "only applies to amqps://"),
            ("amqps://127.0.0.1/?cert=/tmp/c.pem", "cert and key go together"),
        ])
        func invalidOptions(url: String, expected: String) throws {
            let spec = TransportSpec(url: try TransportURL(url))
            let error = #expect(throws: CourierError.self) { try AMQPTransportFactory().capabilities(for: spec) }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
        }

        @Test("the factory serves amqp and amqps and reports capabilities from the options")
        func factory() throws {
            let factory = AMQPTransportFactory()
            #expect(factory.schemes == ["amqp", "amqps"])
            let spec = TransportSpec(url: try TransportURL("amqp://guest:guest@127.0.0.1/?max-priority=9&max-message-bytes=4096"))
            let capabilities = try factory.capabilities(for: spec)
            #expect(capabilities.consumerGroups)
            #expect(capabilities.priorities)
            #expect(capabilities.maxMessageBytes == 4096)
        }
    }
}
