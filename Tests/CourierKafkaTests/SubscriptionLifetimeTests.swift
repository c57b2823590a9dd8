import Courier
import Testing
@testable import CourierKafka

/// A subscription and its consumer's rebalance callback hold each other until the consumer is closed;
/// once closed (and its deliveries let go) the subscription must be freed.
@Suite("Kafka subscription lifetime", .timeLimit(.minutes(2)))
struct SubscriptionLifetimeTests {
    /// Makes the subscription under test and watches it without keeping it alive.
    final class Watch: @unchecked Sendable {
        weak var subscription: KafkaSubscription?

        func subscribe(_ transport: KafkaTransport, group: String) throws -> KafkaSubscription {
            let subscription = try KafkaSubscription(
                subscription: Subscription(topic: "lifetime", group: group), retryTopic: nil, transport: transport
            )
            self.subscription = subscription
            return subscription
        }
    }

    @Test func aClosedSubscriptionIsFreedOnceItsDeliveriesAreLetGo() async throws {
        let cluster = try await KafkaTestCluster.start(topics: ["lifetime": 2])
        let transport = try await cluster.transport()
        let watch = Watch()
        do {
            let subscription = try watch.subscribe(transport, group: "lifetime-group")
            let stream = subscription.start(onClose: {})
            _ = try await transport.publish(Envelope(topic: "lifetime", text: "m1"))
            let received = try await receive(stream, count: 1)
            #expect(received.map(\.envelope.payload) == [Array("m1".utf8)])
            await stream.close()
        }
        for _ in 0..<400 where watch.subscription != nil { try await Task.sleep(for: .milliseconds(5)) }
        #expect(watch.subscription == nil, "the closed subscription is still alive: a reference cycle was not broken")
        await cluster.close()
    }

    @Test func aSubscriptionClosedBeforeItStartedIsFreed() async throws {
        let cluster = try await KafkaTestCluster.start(topics: ["lifetime": 1])
        let transport = try await cluster.transport()
        let watch = Watch()
        do {
            try await watch.subscribe(transport, group: "never-started").close()
        }
        #expect(watch.subscription == nil, "the never-started subscription is still alive: a reference cycle was not broken")
        await cluster.close()
    }
}
