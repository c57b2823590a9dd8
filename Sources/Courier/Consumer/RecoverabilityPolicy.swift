/// What to do with a message whose handler failed.
public enum RecoverabilityAction: Sendable, Hashable {
    /// Run the handler again now, after a short pause, within the same delivery.
    case retryNow(after: Duration)
    /// Hand the message back to the broker to be delivered again after `delay`; the attempt count
    /// travels in the `courier-attempt` header.
    case redeliverLater(after: Duration)
    /// Publish it unchanged, with fault headers, to the dead-letter destination; then ack it.
    case deadLetter(reason: String)
    /// Ack it and drop it, on purpose.
    case discard(reason: String)
}

/// Everything a ``RecoverabilityPolicy`` decides from.
public struct FailureContext: Sendable {
    public let error: any Error
    /// Handler runs in this delivery so far, the failed one included (1 after the first failure).
    public let immediateAttempts: Int
    /// Delayed redeliveries this message has already had (from the `courier-attempt` header), so a crash
    /// or a move to another instance does not reset it.
    public let redeliveries: Int
    public let envelope: Envelope
}

/// Marks an error that no retry can fix: the default policy dead-letters it at once.
public protocol UnrecoverableError: Error {}

/// A payload the handler could not decode: unrecoverable.
public struct UndecodableMessageError: UnrecoverableError, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A pure function of (error, attempts, message) to a ``RecoverabilityAction``, as NServiceBus shapes it.
public struct RecoverabilityPolicy: Sendable {
    public let decide: @Sendable (FailureContext) -> RecoverabilityAction

    public init(_ decide: @escaping @Sendable (FailureContext) -> RecoverabilityAction) { self.decide = decide }

    /// Immediate retries, then delayed redeliveries, then dead-letter. Errors conforming to
    /// ``UnrecoverableError``, or for which `isUnrecoverable` says so, go straight to the dead-letter
    /// destination.
    public static func standard(
        immediateRetries: Int = 3,
        immediateBackoff: Duration = .milliseconds(50),
        delays: [Duration] = [.seconds(1), .seconds(10), .seconds(60)],
        isUnrecoverable: @escaping @Sendable (any Error) -> Bool = { _ in false }
    ) -> RecoverabilityPolicy {
        RecoverabilityPolicy { context in
            if context.error is any UnrecoverableError || isUnrecoverable(context.error) {
                return .deadLetter(reason: context.error is UndecodableMessageError ? "undecodable" : "unrecoverable")
            }
            if context.immediateAttempts <= immediateRetries {
                return .retryNow(after: immediateBackoff)
            }
            if context.redeliveries < delays.count {
                return .redeliverLater(after: delays[context.redeliveries])
            }
            return .deadLetter(reason: "retries-exhausted")
        }
    }

    /// A policy that asks `override` first and falls back to this one when it returns `nil`.
    public func wrapped(by override: @escaping @Sendable (FailureContext) -> RecoverabilityAction?) -> RecoverabilityPolicy {
        let inner = decide
        return RecoverabilityPolicy { context in override(context) ?? inner(context) }
    }
}
