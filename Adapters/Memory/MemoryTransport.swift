import Courier
import Synchronization

/// The `memory://NAME` transport: a client of an in-process ``MemoryBroker``.
///
/// Publishes are confirmed once stored; subscriptions are consumer groups with per-key order and
/// priorities. Use it in unit tests instead of a broker: inject faults through ``broker``.
public final class MemoryTransport: Transport {
    public let name: String
    /// The broker this transport talks to; inject faults and inspect state here.
    public let broker: MemoryBroker
    private let lifecycle = Mutex(Phase.created)
    private let stopped = Latch()

    private enum Phase { case created, started, stopped }

    public init(broker: MemoryBroker, name: String? = nil) {
        self.broker = broker
        self.name = name ?? "memory://\(broker.name)"
    }

    public var capabilities: TransportCapabilities {
        Self.capabilities(options: broker.options)
    }

    static func capabilities(options: MemoryBrokerOptions) -> TransportCapabilities {
        TransportCapabilities(
            consumerGroups: true,
            orderingPerKey: true,
            persistence: true,
            nativeDelayedDelivery: true,
            nativeDeadLettering: false,
            priorities: true,
            exactlyOnceDelivery: false,
            maxMessageBytes: options.maxMessageBytes
        )
    }

    public func start() async throws {
        let phase = lifecycle.withLock { phase -> Phase in
            if phase == .created { phase = .started }
            return phase
        }
        if phase == .stopped {
            throw CourierError.closed("\(name) was shut down; make a new transport", transport: name)
        }
    }

    public func publish(_ envelope: Envelope) async throws -> PublishConfirmation {
        try requireStarted()
        return try await broker.publish(envelope, transportName: name)
    }

    public func subscribe(_ subscription: Subscription) async throws -> DeliveryStream {
        try requireStarted()
        return try broker.subscribe(subscription, owner: ObjectIdentifier(self), transportName: name)
    }

    public func shutdown() async {
        let wasRunning = lifecycle.withLock { phase -> Bool in
            defer { phase = .stopped }
            return phase != .stopped
        }
        guard wasRunning else { return await stopped.wait() }
        broker.closeSubscriptions(of: ObjectIdentifier(self))
        stopped.open()
    }

    public func waitUntilShutdown() async { await stopped.wait() }

    private func requireStarted() throws(CourierError) {
        switch lifecycle.withLock({ $0 }) {
        case .started: return
        case .created: throw CourierError(.notStarted, "\(name) is not started; call start() (or run()) first", transport: name)
        case .stopped: throw CourierError.closed("\(name) was shut down", transport: name)
        }
    }
}
