/// What a transport can do. Configuration is validated against these when it loads, and the
/// conformance suite skips (and reports) scenarios a transport does not claim.
public struct TransportCapabilities: Sendable, Hashable {
    /// Several consumers can share a topic as one group, and each group gets every message.
    public var consumerGroups: Bool
    /// Messages with the same ordering key are delivered in publish order.
    public var orderingPerKey: Bool
    /// Messages outlive the subscriber (and the broker process, for real brokers).
    public var persistence: Bool
    /// The broker can hold a message back for a delay before delivering it.
    public var nativeDelayedDelivery: Bool
    /// The broker can route rejected messages to a dead-letter destination by itself.
    public var nativeDeadLettering: Bool
    /// Higher-priority messages overtake lower-priority ones that are waiting.
    public var priorities: Bool
    /// Each message is delivered once, never duplicated by the transport itself.
    public var exactlyOnceDelivery: Bool
    /// The largest payload in bytes the transport accepts, when it has a limit.
    public var maxMessageBytes: Int?

    public init(
        consumerGroups: Bool = false,
        orderingPerKey: Bool = false,
        persistence: Bool = false,
        nativeDelayedDelivery: Bool = false,
        nativeDeadLettering: Bool = false,
        priorities: Bool = false,
        exactlyOnceDelivery: Bool = false,
        maxMessageBytes: Int? = nil
    ) {
        self.consumerGroups = consumerGroups
        self.orderingPerKey = orderingPerKey
        self.persistence = persistence
        self.nativeDelayedDelivery = nativeDelayedDelivery
        self.nativeDeadLettering = nativeDeadLettering
        self.priorities = priorities
        self.exactlyOnceDelivery = exactlyOnceDelivery
        self.maxMessageBytes = maxMessageBytes
    }

    /// Each capability as a (name, value) pair, in a fixed order, for listings such as `courier check`.
    public var listing: [(name: String, value: String)] {
        [
            ("consumer-groups", consumerGroups ? "yes" : "no"),
            ("ordering-per-key", orderingPerKey ? "yes" : "no"),
            ("persistence", persistence ? "yes" : "no"),
            ("delayed-delivery", nativeDelayedDelivery ? "native" : "no"),
            ("dead-lettering", nativeDeadLettering ? "native" : "no"),
            ("priorities", priorities ? "yes" : "no"),
            ("exactly-once-delivery", exactlyOnceDelivery ? "yes" : "no"),
            ("max-message-bytes", maxMessageBytes.map(String.init) ?? "unlimited"),
        ]
    }
}
