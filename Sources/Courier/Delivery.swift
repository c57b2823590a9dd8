/// How a delivery is settled.
public enum SettleAction: Sendable, Hashable, CustomStringConvertible {
    /// Done: the broker forgets the message (for this group).
    case ack
    /// Not done: put the message back so it is delivered again.
    case requeue
    /// Not done and not to be retried: the broker drops it or routes it to its native dead-letter place.
    case reject
    /// Not done: deliver it again to this group only, no sooner than `after`, with `headers` merged into
    /// its headers (the consumer pipeline carries its attempt count this way). Transports do it natively
    /// where they can (memory: on its clock) and through retry destinations otherwise (RabbitMQ: per-delay
    /// TTL queues; Kafka: retry topics). The original is settled once the redelivery is safely scheduled.
    case redeliver(after: Duration, headers: [String: String])

    public var description: String {
        switch self {
        case .ack: "ack"
        case .requeue: "requeue"
        case .reject: "reject"
        case .redeliver(let delay, _): "redeliver after \(delay)"
        }
    }
}

/// Implemented by a transport to settle the deliveries it hands out. Part of the plugin SPI.
public protocol DeliverySettler: Sendable {
    /// Settles the delivery with `tag`. Throws ``CourierError/Code/invalidSettlement`` when the delivery
    /// was already settled or its channel was lost (it will then be redelivered).
    func settle(tag: UInt64, _ action: SettleAction) async throws
}

/// Where a delivery came from, for logs and fault headers.
public struct DeliverySource: Sendable, Hashable {
    /// The ``Transport/name`` of the transport that delivered it.
    public var transport: String
    public var topic: String
    public var group: String?
    public var partition: Int?
    public var offset: Int64?

    public init(transport: String, topic: String, group: String? = nil, partition: Int? = nil, offset: Int64? = nil) {
        self.transport = transport
        self.topic = topic
        self.group = group
        self.partition = partition
        self.offset = offset
    }
}

/// A transport's own object behind a ``Delivery``, for a transport that keeps one per message anyway: the
/// delivery then wraps it instead of copying its fields into an object of its own, and settling reaches
/// it without a lookup by tag. Part of the plugin SPI; most transports use
/// ``Delivery/init(envelope:deliveryCount:source:tag:settler:)`` instead.
///
/// Every property must keep its value once the delivery is handed out.
public protocol DeliveryHandle: AnyObject, Sendable {
    /// The message.
    var envelope: Envelope { get }
    /// 1 on the first delivery to this group, 2 on the first redelivery, and so on.
    var deliveryCount: Int { get }
    /// Where it came from.
    var source: DeliverySource { get }
    /// The transport's handle for this delivery, for logs and errors.
    var tag: UInt64 { get }
    /// Settles the delivery. Throws ``CourierError/Code/invalidSettlement`` when it was already settled
    /// or its subscription was lost (it will then be redelivered).
    func settle(_ action: SettleAction) async throws
    /// Settles the delivery now and returns `true` when the transport can do that without waiting (an
    /// ack that only updates its bookkeeping, say); returns `false`, having done nothing, to leave it to
    /// ``settle(_:)``. Throws as ``settle(_:)`` does. ``Delivery`` tries this first: a settlement made
    /// here costs no asynchronous call, which is measurable per message. The default returns `false`.
    func settleWithoutWaiting(_ action: SettleAction) throws -> Bool
}

extension DeliveryHandle {
    /// Never settles at once: every settlement goes to ``settle(_:)``.
    public func settleWithoutWaiting(_ action: SettleAction) throws -> Bool { false }
}

/// One message handed to a subscriber. Settle it exactly once: ``ack()``, ``nack(requeue:)`` or ``reject()``.
public struct Delivery: Sendable {
    /// The fields, behind one reference: deliveries are copied into batches, queues and handler tasks,
    /// and each copy retains one object instead of every field.
    private let handle: any DeliveryHandle

    /// The message.
    public var envelope: Envelope { handle.envelope }
    /// 1 on the first delivery to this group, 2 on the first redelivery, and so on (as far as the broker
    /// knows; Courier's own attempt count travels in the `courier-attempt` header).
    public var deliveryCount: Int { handle.deliveryCount }
    /// Where it came from.
    public var source: DeliverySource { handle.source }
    /// The transport's handle for this delivery.
    public var tag: UInt64 { handle.tag }

    public init(envelope: Envelope, deliveryCount: Int, source: DeliverySource, tag: UInt64, settler: any DeliverySettler) {
        handle = Storage(envelope: envelope, deliveryCount: deliveryCount, source: source, tag: tag, settler: settler)
    }

    /// A delivery backed by the transport's own per-message object.
    public init(handle: some DeliveryHandle) {
        self.handle = handle
    }

    private final class Storage: DeliveryHandle {
        let envelope: Envelope
        let deliveryCount: Int
        let source: DeliverySource
        let tag: UInt64
        let settler: any DeliverySettler

        init(envelope: Envelope, deliveryCount: Int, source: DeliverySource, tag: UInt64, settler: any DeliverySettler) {
            self.envelope = envelope
            self.deliveryCount = deliveryCount
            self.source = source
            self.tag = tag
            self.settler = settler
        }

        func settle(_ action: SettleAction) async throws {
            try await settler.settle(tag: tag, action)
        }
    }

    /// Whether the broker delivered this message before.
    public var isRedelivery: Bool { deliveryCount > 1 }

    /// Settles with `action`.
    public func settle(_ action: SettleAction) async throws {
        if try handle.settleWithoutWaiting(action) { return }
        try await handle.settle(action)
    }

    /// The message was handled; the broker forgets it.
    public func ack() async throws { try await settle(.ack) }

    /// The message was not handled: with `requeue` it is delivered again, without it it is rejected.
    public func nack(requeue: Bool = true) async throws { try await settle(requeue ? .requeue : .reject) }

    /// The message must not be delivered again.
    public func reject() async throws { try await settle(.reject) }

    /// Deliver the message again to this group after `delay`, with `headers` merged into its headers.
    public func redeliver(after delay: Duration, headers: [String: String] = [:]) async throws {
        try await settle(.redeliver(after: delay, headers: headers))
    }
}
