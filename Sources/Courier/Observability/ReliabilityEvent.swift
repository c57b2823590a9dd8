/// Something the reliability pipeline did that an operator may want to know about, from any source:
/// producers, consumers, circuit breakers and transport connections, in one type.
public enum ReliabilityEvent: Sendable, Hashable, CustomStringConvertible {
    /// A circuit breaker changed state (a transport's breaker, or a consumer's handler breaker).
    case breakerTransition(CircuitBreaker.Transition)
    /// Producer traffic moved from one transport to a less preferred one.
    case failedOver(from: String, to: String)
    /// Producer traffic returned to a more preferred transport.
    case failedBack(from: String, to: String)
    /// No transport could take a message; it is in the durable spool.
    case spooled(messageID: String)
    /// The relay published a spooled message and removed it from the spool.
    case drained(messageID: String, transport: String)
    /// A transport lost its connection and started to recover.
    case recoveryStarted(transport: String, reason: String)
    /// A recovery attempt failed; another follows after a backoff.
    case recoveryAttemptFailed(transport: String, attempt: Int, reason: String)
    /// A transport recovered (topology and subscriptions restored).
    case recoveryFinished(transport: String, attempts: Int)
    /// A consumer resubscribed after losing a subscription.
    case resubscribed(transport: String)
    /// A message went to its dead-letter destination.
    case deadLettered(messageID: String, reason: String, topic: String)
    /// A consumer paused because its handler breaker opened.
    case consumerPaused(reason: String)
    /// A consumer resumed after its handler breaker closed.
    case consumerResumed

    public var description: String {
        switch self {
        case .breakerTransition(let transition): "\(transition)"
        case .failedOver(let from, let to): "failed over from \(from) to \(to)"
        case .failedBack(let from, let to): "failed back from \(from) to \(to)"
        case .spooled(let id): "spooled \(id)"
        case .drained(let id, let transport): "drained \(id) to \(transport)"
        case .recoveryStarted(let transport, let reason): "\(transport): recovery started (\(reason))"
        case .recoveryAttemptFailed(let transport, let attempt, let reason): "\(transport): recovery attempt \(attempt) failed (\(reason))"
        case .recoveryFinished(let transport, let attempts): "\(transport): recovered after \(attempts) attempt(s)"
        case .resubscribed(let transport): "\(transport): resubscribed"
        case .deadLettered(let id, let reason, let topic): "dead-lettered \(id) to \(topic) (\(reason))"
        case .consumerPaused(let reason): "consumer paused (\(reason))"
        case .consumerResumed: "consumer resumed"
        }
    }

    /// The event a producer reports, if it is a reliability event (retries are counted, not announced).
    public init?(_ event: ProducerEvent) {
        switch event {
        case .failedOver(let from, let to): self = .failedOver(from: from, to: to)
        case .failedBack(let from, let to): self = .failedBack(from: from, to: to)
        case .spooled(let id): self = .spooled(messageID: id)
        case .drained(let id, let transport): self = .drained(messageID: id, transport: transport)
        case .retried: return nil
        }
    }

    /// The event a consumer reports, as a reliability event.
    public init(_ event: ConsumerEvent) {
        switch event {
        case .deadLettered(let id, let reason, let topic): self = .deadLettered(messageID: id, reason: reason, topic: topic)
        case .paused(let reason): self = .consumerPaused(reason: reason)
        case .resumed: self = .consumerResumed
        case .resubscribed(let transport): self = .resubscribed(transport: transport)
        }
    }
}
