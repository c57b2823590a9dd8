/// What ``Producer/publish(_:)`` did with a message.
public struct PublishReceipt: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        /// A broker took responsibility.
        case confirmed(PublishConfirmation)
        /// No transport could take it; it is in the durable spool at `sequence` and will be relayed.
        case spooled(sequence: Int64)
    }

    public let messageID: String
    /// Unchanged across retries, transports and the spool: consumers deduplicate on it.
    public let idempotencyKey: String
    public let outcome: Outcome
    /// Publish attempts made, over all transports.
    public let attempts: Int

    /// The transport that confirmed, or nil when spooled.
    public var transport: String? {
        if case .confirmed(let confirmation) = outcome { return confirmation.transport }
        return nil
    }

    public var isSpooled: Bool {
        if case .spooled = outcome { return true }
        return false
    }
}

/// Something the producer did that an operator may want to know about.
public enum ProducerEvent: Sendable, Hashable {
    /// Traffic moved from one transport to a less preferred one.
    case failedOver(from: String, to: String)
    /// Traffic returned to a more preferred transport.
    case failedBack(from: String, to: String)
    /// A message went to the spool because no transport could take it.
    case spooled(messageID: String)
    /// The relay published a spooled message and removed it from the spool.
    case drained(messageID: String, transport: String)
    /// A publish attempt failed and will be retried on the same transport.
    case retried(messageID: String, transport: String, attempt: Int, error: String)
}

/// Running totals of a producer.
public struct ProducerStatistics: Sendable, Hashable {
    /// Calls to publish.
    public var published = 0
    /// Messages a broker confirmed directly from publish.
    public var confirmed = 0
    /// Retries made (attempts beyond the first on a transport).
    public var retried = 0
    /// Messages confirmed by a transport other than the first.
    public var failedOver = 0
    /// Messages put in the spool.
    public var spooled = 0
    /// Spooled messages the relay had confirmed.
    public var drainedFromSpool = 0
    /// Publishes that threw.
    public var failed = 0

    public init() {}
}
