import Courier
import CourierMemory
import Testing

/// Deliveries settle through their member, which holds the broker while it is attached; nothing may keep
/// the broker alive once its subscriptions are gone.
@Suite("Memory transport: a broker's lifetime", .timeLimit(.minutes(1)))
struct BrokerLifetimeTests {
    final class WeakBroker: @unchecked Sendable {
        weak var broker: MemoryBroker?
    }

    @Test func aBrokerIsFreedOnceItsTransportAndStreamsAreDropped() async throws {
        let watch = WeakBroker()
        do {
            let broker = MemoryBroker(name: "lifetime")
            watch.broker = broker
            let transport = MemoryTransport(broker: broker)
            try await transport.start()
            _ = try await transport.publish(Envelope.text("m1", topic: "orders"))
            let stream = try await transport.subscribe(Subscription(topic: "orders", group: "g", prefetch: 4))
            var deliveries = stream.makeAsyncIterator()
            let unsettled = try await deliveries.next()
            #expect(unsettled?.envelope.id == "m1")
        }
        // Dropping the stream closes it in a task of its own; the member goes and with it the broker.
        for _ in 0..<200 where watch.broker != nil { try await Task.sleep(for: .milliseconds(5)) }
        #expect(watch.broker == nil)
    }

    @Test func aClosedStreamsBrokerIsFreedWhileADeliveryIsStillHeld() async throws {
        let watch = WeakBroker()
        var held: Delivery?
        do {
            let broker = MemoryBroker(name: "lifetime")
            watch.broker = broker
            let transport = MemoryTransport(broker: broker)
            try await transport.start()
            _ = try await transport.publish(Envelope.text("m1", topic: "orders"))
            let stream = try await transport.subscribe(Subscription(topic: "orders", group: "g", prefetch: 4))
            var deliveries = stream.makeAsyncIterator()
            held = try await deliveries.next()
            await transport.shutdown()
        }
        // The delivery holds its broker (its settlement must reach it); letting it go frees the broker once
        // the stream's close (a task of its own, started when the stream was let go) has run.
        #expect(watch.broker != nil)
        let error = await courierError { try await held?.ack() }
        #expect(error?.code == .invalidSettlement)
        held = nil
        for _ in 0..<200 where watch.broker != nil { try await Task.sleep(for: .milliseconds(5)) }
        #expect(watch.broker == nil)
    }
}
