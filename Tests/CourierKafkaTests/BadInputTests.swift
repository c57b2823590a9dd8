import Courier
import Testing
@testable import CourierKafka

@Suite("Kafka bad input: clear errors, and the transport keeps working")
struct BadInputTests {
    @Test("invalid librdkafka properties fail at load time with librdkafka's own message")
    func invalidProperties() throws {
        let factory = KafkaTransportFactory()
        let unknown = #expect(throws: CourierError.self) {
            try factory.capabilities(for: TransportSpec(url: TransportURL("kafka://127.0.0.1:9092?no.such.property=1")))
        }
        #expect(unknown?.code == .invalidConfiguration)
        #expect(unknown?.message.contains("No such configuration property") == true)
        #expect(unknown?.message.contains("no.such.property") == true)

        let badValue = #expect(throws: CourierError.self) {
            try factory.makeTransport(TransportSpec(url: TransportURL("kafka://127.0.0.1:9092"), options: ["acks": "banana"]), context: TransportContext())
        }
        #expect(badValue?.message.contains("acks") == true)
        #expect(badValue?.message.contains("Invalid value") == true)

        let secret = #expect(throws: CourierError.self) {
            try factory.capabilities(for: TransportSpec(url: TransportURL("kafka://127.0.0.1:9092?sasl.mechanism=PLAIN&ssl.key.password=hunter2&enable.idempotence=perhaps")))
        }
        #expect(secret?.message.contains("hunter2") == false)

        let courierOption = #expect(throws: CourierError.self) {
            try factory.capabilities(for: TransportSpec(url: TransportURL("kafka://127.0.0.1:9092?create-topics=maybe")))
        }
        #expect(courierOption?.message.contains("create-topics") == true)
        let typo = #expect(throws: CourierError.self) {
            try factory.capabilities(for: TransportSpec(url: TransportURL("kafka://127.0.0.1:9092?consumer-bufer=10")))
        }
        #expect(typo?.message.contains("consumer-buffer") == true)
        let noHost = #expect(throws: CourierError.self) {
            try factory.capabilities(for: TransportSpec(url: TransportURL("kafka://broker:9092/some-path")))
        }
        #expect(noHost?.code == .invalidConfiguration)

        let capabilities = try factory.capabilities(for: TransportSpec(url: TransportURL("kafka://a:9092,b:9093?message.max.bytes=2000000")))
        #expect(capabilities.consumerGroups && capabilities.orderingPerKey && capabilities.persistence)
        #expect(!capabilities.nativeDelayedDelivery && !capabilities.exactlyOnceDelivery)
        #expect(capabilities.maxMessageBytes == 2_000_000)
    }

    @Test("an unreachable bootstrap server is a retriable unavailable error")
    func unreachableBootstrap() async throws {
        let spec = TransportSpec(url: try TransportURL("kafka://127.0.0.1:1?message.timeout.ms=2000"))
        let transport = try KafkaTransportFactory().makeTransport(spec, context: TransportContext())
        try await transport.start()
        let error = await #expect(throws: CourierError.self) {
            try await transport.publish(Envelope(topic: "nowhere", text: "hello"))
        }
        #expect(error?.code == .unavailable)
        #expect(error?.isRetriable == true)
        #expect(error?.message.contains("nowhere") == true)
        await transport.shutdown()
    }

    @Test("an unknown topic with topic creation off fails clearly; existing topics still work")
    func unknownTopicWithoutAutoCreate() async throws {
        let test = try await KafkaTestCluster.start(topics: ["known": 1])
        // The mock cluster creates any topic a client asks about; make it answer like a cluster without one.
        test.cluster.setTopicError("unknown", .unknownTopicOrPartition)
        let transport = try await test.transport(["create-topics": "false"])
        let publishError = await #expect(throws: CourierError.self) {
            try await transport.publish(Envelope(topic: "unknown", text: "lost?"))
        }
        #expect(publishError?.code == .unroutable)
        #expect(publishError?.isRetriable == false)
        #expect(publishError?.message.contains("create-topics") == true)
        let subscribeError = await #expect(throws: CourierError.self) {
            try await transport.subscribe(Subscription(topic: "unknown", group: "g"))
        }
        #expect(subscribeError?.code == .unroutable)
        // With creation allowed but refused by the cluster, the error says so too.
        let creating = try await test.transport()
        let refused = await #expect(throws: CourierError.self) {
            try await creating.publish(Envelope(topic: "unknown", text: "lost?"))
        }
        #expect(refused?.code == .unroutable)
        #expect(refused?.message.contains("did not create it") == true)
        let confirmation = try await transport.publish(Envelope(topic: "known", text: "fine"))
        #expect(confirmation.offset == 0)
        await test.close()
    }

    @Test("missing topics are created when allowed")
    func topicsCreatedWhenMissing() async throws {
        let test = try await KafkaTestCluster.start()
        let transport = try await test.transport()
        let stream = try await transport.subscribe(Subscription(topic: "brand-new", group: "g"))
        let sent = try await publish(transport, topic: "brand-new", count: 3)
        let received = try await receive(stream, count: 3)
        #expect(Set(received.map(\.envelope.id)) == Set(sent.map(\.messageID)))
        await test.close()
    }

    @Test("many concurrent first publishes to a new topic share one topic check and all succeed")
    func concurrentFirstPublishes() async throws {
        let test = try await KafkaTestCluster.start()
        let transport = try await test.transport()
        let confirmed = try await withThrowingTaskGroup(of: PublishConfirmation.self, returning: Int.self) { group in
            for index in 0..<200 { group.addTask { try await transport.publish(Envelope(topic: "burst", text: "\(index)")) } }
            return try await group.reduce(0) { count, _ in count + 1 }
        }
        #expect(confirmed == 200)
        await test.close()
    }

    @Test("a message over message.max.bytes is refused as too large; smaller ones still go through")
    func messageTooLarge() async throws {
        let test = try await KafkaTestCluster.start(topics: ["blobs": 1])
        let transport = try await test.transport(["message.max.bytes": "10000"])
        #expect(transport.capabilities.maxMessageBytes == 10000)
        let tooLarge = await #expect(throws: CourierError.self) {
            try await transport.publish(Envelope(topic: "blobs", payload: [UInt8](repeating: 7, count: 20_000)))
        }
        #expect(tooLarge?.code == .messageTooLarge)
        #expect(tooLarge?.isRetriable == false)
        // Payload under the limit but headers push the record over it: librdkafka's own check.
        let headers = Dictionary(uniqueKeysWithValues: (0..<40).map { ("h\($0)", String(repeating: "x", count: 200)) })
        let overWithHeaders = await #expect(throws: CourierError.self) {
            try await transport.publish(Envelope(topic: "blobs", payload: [UInt8](repeating: 1, count: 5000), headers: headers))
        }
        #expect(overWithHeaders?.code == .messageTooLarge)
        let confirmation = try await transport.publish(Envelope(topic: "blobs", payload: [UInt8](repeating: 7, count: 2000)))
        #expect(confirmation.offset != nil)
        await test.close()
    }

    @Test("malformed envelopes and subscriptions are refused before reaching Kafka")
    func malformedInput() async throws {
        let test = try await KafkaTestCluster.start(topics: ["fine": 1])
        let transport = try await test.transport()
        let emptyTopic = await #expect(throws: CourierError.self) { try await transport.publish(Envelope(topic: "", text: "x")) }
        #expect(emptyTopic?.code == .invalidMessage)
        let badTopic = await #expect(throws: CourierError.self) { try await transport.publish(Envelope(topic: "no spaces/allowed", text: "x")) }
        #expect(badTopic?.code == .invalidMessage)
        let badPrefetch = await #expect(throws: CourierError.self) { try await transport.subscribe(Subscription(topic: "fine", prefetch: 0)) }
        #expect(badPrefetch?.code == .invalidConfiguration)
        _ = try await transport.publish(Envelope(topic: "fine", text: "still working"))
        await test.close()
    }

    @Test("a subscription closed before its poll thread started closes its consumer and returns")
    func closeBeforeStart() async throws {
        let test = try await KafkaTestCluster.start(topics: ["early": 1])
        let transport = try await test.transport()
        let subscription = try KafkaSubscription(subscription: Subscription(topic: "early", group: "g"), retryTopic: nil, transport: transport)
        await subscription.close()
        await subscription.close()
        await test.close()
    }

    @Test("publishing before start or after shutdown is refused")
    func lifecycle() async throws {
        let test = try await KafkaTestCluster.start(topics: ["life": 1])
        let spec = TransportSpec(url: try TransportURL(test.cluster.url()))
        let transport = try KafkaTransportFactory().makeTransport(spec, context: TransportContext())
        let early = await #expect(throws: CourierError.self) { try await transport.publish(Envelope(topic: "life", text: "x")) }
        #expect(early?.code == .notStarted)
        try await transport.start()
        _ = try await transport.publish(Envelope(topic: "life", text: "x"))
        await transport.shutdown()
        await transport.shutdown()
        let late = await #expect(throws: CourierError.self) { try await transport.publish(Envelope(topic: "life", text: "x")) }
        #expect(late?.code == .closed)
        await test.close()
    }
}
