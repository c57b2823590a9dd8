/// When a consumer acknowledges a message relative to running its handler.
public enum DeliveryGuarantee: String, Sendable, Hashable, CaseIterable {
    /// Ack after the handler succeeded (the default): a crash means a redelivery, never a loss.
    case atLeastOnce = "at-least-once"
    /// Ack before the handler runs: a crash or failure loses the message, by the user's choice.
    case atMostOnce = "at-most-once"
    /// At-least-once plus the idempotency store: a redelivered or duplicated message has its effects once.
    case exactlyOnceEffects = "exactly-once-effects"
}

/// How a ``Consumer`` reads, retries, dead-letters and shuts down.
public struct ConsumerConfiguration: Sendable {
    public var topic: String
    /// The consumer group; every transport of the set is subscribed as a member of it.
    public var group: String
    /// Handlers running at once.
    public var concurrency: Int
    /// Unsettled deliveries each subscription holds.
    public var prefetch: Int
    /// Run at most one message per ordering key at a time, in arrival order.
    public var keepOrderPerKey: Bool
    public var guarantee: DeliveryGuarantee
    public var recoverability: RecoverabilityPolicy
    /// Where dead letters go; `nil` means `<topic>.dlq`.
    public var deadLetterTopic: String?
    /// Bytes the error description may take in the `courier-fault-message` header (RabbitMQ frames are
    /// 128 KiB; a stack trace must not break a dead-letter publish).
    public var faultMessageBudget: Int
    /// A breaker around the handler: when a downstream keeps failing, consumption pauses.
    public var handlerBreaker: CircuitBreakerConfiguration?
    /// How long a claim on an idempotency key lasts before another consumer may take it over.
    public var idempotencyLease: Duration
    /// On shutdown, how long in-flight handlers may run before their messages are handed back.
    public var shutdownGracePeriod: Duration
    /// How long to wait before subscribing again after a subscription was lost.
    public var resubscribeDelay: Duration

    public init(
        topic: String,
        group: String,
        concurrency: Int = 8,
        prefetch: Int = 16,
        keepOrderPerKey: Bool = false,
        guarantee: DeliveryGuarantee = .atLeastOnce,
        recoverability: RecoverabilityPolicy = .standard(),
        deadLetterTopic: String? = nil,
        faultMessageBudget: Int = 4096,
        handlerBreaker: CircuitBreakerConfiguration? = nil,
        idempotencyLease: Duration = .seconds(60),
        shutdownGracePeriod: Duration = .seconds(10),
        resubscribeDelay: Duration = .milliseconds(500)
    ) {
        self.topic = topic
        self.group = group
        self.concurrency = max(1, concurrency)
        self.prefetch = max(1, prefetch)
        self.keepOrderPerKey = keepOrderPerKey
        self.guarantee = guarantee
        self.recoverability = recoverability
        self.deadLetterTopic = deadLetterTopic
        self.faultMessageBudget = max(64, faultMessageBudget)
        self.handlerBreaker = handlerBreaker
        self.idempotencyLease = idempotencyLease
        self.shutdownGracePeriod = shutdownGracePeriod
        self.resubscribeDelay = resubscribeDelay
    }

    /// The dead-letter topic in effect.
    public var effectiveDeadLetterTopic: String { deadLetterTopic ?? "\(topic).dlq" }
}

/// Running totals of a consumer.
public struct ConsumerStatistics: Sendable, Hashable {
    /// Messages whose handler succeeded.
    public var consumed = 0
    /// Duplicates acked without running the handler (idempotency store).
    public var duplicatesDropped = 0
    /// Handler re-runs within a delivery.
    public var retried = 0
    /// Messages handed back for delayed redelivery.
    public var redelivered = 0
    public var deadLettered = 0
    public var discarded = 0
    /// Handler failures in at-most-once mode (the message was already acked).
    public var lostByChoice = 0
    /// Times the handler breaker paused consumption.
    public var pauses = 0

    public init() {}
}
