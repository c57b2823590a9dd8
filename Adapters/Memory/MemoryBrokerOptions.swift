import Courier

/// Limits of a ``MemoryBroker``, settable as `memory://NAME?key=value` options.
public struct MemoryBrokerOptions: Sendable, Hashable {
    /// Messages a topic retains; a publish into a full topic whose oldest message some group has not
    /// settled fails with a retriable backpressure error. Option `capacity`, default 10,000.
    public var capacity: Int
    /// How often a message may be delivered to one group before a further requeue parks it in the
    /// broker's dead-letter list instead of looping. Option `max-deliveries`, default 10.
    public var maxDeliveries: Int
    /// The largest payload accepted. Option `max-message-bytes`, default 4 MiB.
    public var maxMessageBytes: Int

    public init(capacity: Int = 10_000, maxDeliveries: Int = 10, maxMessageBytes: Int = 4 << 20) {
        self.capacity = capacity
        self.maxDeliveries = maxDeliveries
        self.maxMessageBytes = maxMessageBytes
    }

    /// The option names a `memory://` URL accepts.
    public static let optionNames: Set<String> = ["capacity", "max-deliveries", "max-message-bytes"]

    /// Reads the options of a `memory://` spec, rejecting unknown ones and out-of-range values.
    public init(spec: TransportSpec) throws(CourierError) {
        try spec.rejectUnknownOptions(known: Self.optionNames)
        let defaults = MemoryBrokerOptions()
        self.init(
            capacity: try spec.intOption("capacity", default: defaults.capacity, in: 1...10_000_000),
            maxDeliveries: try spec.intOption("max-deliveries", default: defaults.maxDeliveries, in: 1...1_000_000),
            maxMessageBytes: try spec.intOption("max-message-bytes", default: defaults.maxMessageBytes, in: 1...(1 << 30))
        )
    }
}
