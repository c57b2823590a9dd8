import Courier
import CourierConformance
import CourierMemory
import Foundation
import Synchronization

/// The conformance suite wired to the memory transport: a broker of its own, fresh transports on it,
/// `.down`/`.up` as the broker restart, and a foreign client that publishes plain headers.
enum MemoryConformance {
    /// A suite over a new memory broker; `transform` wraps each transport (the broken-transport tests).
    static func suite(
        options: ConformanceOptions,
        capabilities: TransportCapabilities? = nil,
        transform: @escaping @Sendable (MemoryTransport) -> any Transport = { $0 }
    ) -> ConformanceSuite {
        let broker = MemoryBroker(name: "conformance-\(UUID().uuidString.prefix(8))")
        var options = options
        if options.restartBroker == nil { options.restartBroker = restartHook(broker) }
        if options.publishForeign == nil { options.publishForeign = foreignClient(broker) }
        let declared = capabilities ?? MemoryTransport(broker: broker).capabilities
        return ConformanceSuite(capabilities: declared, options: options) {
            let transport = MemoryTransport(broker: broker)
            try await transport.start()
            return transform(transport)
        }
    }

    /// The broker goes down (unsettled deliveries return, publishes fail as unavailable) and comes back.
    static func restartHook(_ broker: MemoryBroker) -> ConformanceOptions.RestartBroker {
        {
            broker.inject(.down)
            try await Task.sleep(for: .milliseconds(50))
            broker.inject(.up)
        }
    }

    /// Another client of the broker: it writes plain headers only, and the id is what a transport
    /// derives for a message without `courier-id` (here from the topic and a counter).
    static func foreignClient(_ broker: MemoryBroker) -> ConformanceOptions.PublishForeign {
        let client = MemoryTransport(broker: broker, name: "memory://foreign-client")
        let counter = ForeignCounter()
        return { message in
            try await client.start()
            let envelope = Envelope(
                topic: message.topic,
                wireHeaders: message.headers,
                payload: message.payload,
                fallbackID: "memory:\(message.topic):\(counter.next())"
            )
            _ = try await client.publish(envelope)
        }
    }
}

/// Numbers foreign messages.
final class ForeignCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}
