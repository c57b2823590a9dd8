import Courier
import Synchronization

/// The brokers behind `memory://NAME` URLs, one per name, shared by every transport made through the
/// same ``MemoryTransportFactory``. A test keeps a reference to reach a broker's faults.
public final class MemoryBrokers: Sendable {
    private let brokers = Mutex<[String: MemoryBroker]>([:])

    public init() {}

    /// The broker called `name`, made with `options` and `clock` if it does not exist yet. Throws if it
    /// exists with different options, since two transports would then disagree about its limits.
    public func broker(named name: String, options: MemoryBrokerOptions = MemoryBrokerOptions(), clock: any CourierClock = SystemClock()) throws(CourierError) -> MemoryBroker {
        try brokers.withLock { brokers throws(CourierError) -> MemoryBroker in
            if let existing = brokers[name] {
                guard existing.options == options else {
                    throw CourierError(
                        .invalidConfiguration,
                        "memory://\(name) already exists with capacity=\(existing.options.capacity) max-deliveries=\(existing.options.maxDeliveries) max-message-bytes=\(existing.options.maxMessageBytes); give every URL for this broker the same options"
                    )
                }
                return existing
            }
            let broker = MemoryBroker(name: name, options: options, clock: clock)
            brokers[name] = broker
            return broker
        }
    }

    /// The broker called `name`, if a transport has made it.
    public func existingBroker(named name: String) -> MemoryBroker? { brokers.withLock { $0[name] } }
}

/// Makes `memory://NAME[?capacity=N&max-deliveries=N&max-message-bytes=N]` transports.
public struct MemoryTransportFactory: TransportFactory {
    public let brokers: MemoryBrokers

    public init(brokers: MemoryBrokers = MemoryBrokers()) { self.brokers = brokers }

    public var schemes: [String] { ["memory"] }

    public var summary: String {
        "in-process broker for tests and demos: consumer groups, per-key order, priorities, scripted faults (memory://NAME)"
    }

    public func capabilities(for spec: TransportSpec) throws -> TransportCapabilities {
        MemoryTransport.capabilities(options: try validatedOptions(spec))
    }

    public func makeTransport(_ spec: TransportSpec, context: TransportContext) throws -> any Transport {
        let options = try validatedOptions(spec)
        let broker = try brokers.broker(named: spec.url.host, options: options, clock: context.clock)
        return MemoryTransport(broker: broker, name: spec.name)
    }

    private func validatedOptions(_ spec: TransportSpec) throws(CourierError) -> MemoryBrokerOptions {
        let url = spec.url
        guard !url.host.isEmpty, url.endpoints.count == 1, url.endpoints[0].port == nil,
              url.user == nil, url.password == nil, url.path.isEmpty else {
            throw CourierError(
                .invalidConfiguration,
                "\(url.redacted): a memory URL names one broker and nothing else; write memory://NAME (for example memory://tests)"
            )
        }
        return try MemoryBrokerOptions(spec: spec)
    }
}
