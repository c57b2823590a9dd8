/// The one error type every Courier module and transport throws.
///
/// Callers decide what to do from the flags, not from the message: ``isRetriable`` says a resend may
/// succeed, ``isFatal`` says the transport that threw it cannot be used again until it is recreated, and
/// ``mayDuplicate`` says the outcome is unknown (the bytes may have reached the broker), so a resend can
/// produce a duplicate that the idempotency key must absorb.
public struct CourierError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as an extensible code: transports and plugins add their own codes.
    public var code: Code
    /// A sentence for a human: what was wrong and how to fix it.
    public var message: String
    /// A resend (or retried call) may succeed.
    public var isRetriable: Bool
    /// The transport is unusable until it is recreated.
    public var isFatal: Bool
    /// The outcome is unknown: the broker may have taken the message, so a resend may duplicate it.
    public var mayDuplicate: Bool
    /// The transport the error came from, with secrets redacted, when there is one.
    public var transport: String?

    public init(
        _ code: Code,
        _ message: String,
        isRetriable: Bool = false,
        isFatal: Bool = false,
        mayDuplicate: Bool = false,
        transport: String? = nil
    ) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable
        self.isFatal = isFatal
        self.mayDuplicate = mayDuplicate
        self.transport = transport
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let transport { text += " [transport \(transport)]" }
        return text
    }

    /// Returns a copy that names the transport it came from.
    public func from(transport name: String) -> CourierError {
        var copy = self
        if copy.transport == nil { copy.transport = name }
        return copy
    }

    /// `error` itself when it is a ``CourierError``; otherwise an outcome-unknown error that carries its
    /// description (anything but a CourierError from a transport means the outcome is not known).
    public static func wrapping(_ error: any Error, transport: String? = nil) -> CourierError {
        if let error = error as? CourierError { return error }
        if error is CancellationError {
            return CourierError(.outcomeUnknown, "the publish was cancelled while in flight; it may have been sent", isRetriable: true, mayDuplicate: true, transport: transport)
        }
        return CourierError(.outcomeUnknown, "\(error)", isRetriable: true, mayDuplicate: true, transport: transport)
    }

    /// An extensible error code. Codes compare by their string value.
    public struct Code: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        /// A configuration value, flag or URL is invalid.
        public static let invalidConfiguration: Code = "invalid-configuration"
        /// A URL names a scheme no factory is registered for.
        public static let unknownScheme: Code = "unknown-scheme"
        /// An envelope is malformed (empty topic, priority out of range, ...).
        public static let invalidMessage: Code = "invalid-message"
        /// The message is larger than the transport accepts.
        public static let messageTooLarge: Code = "message-too-large"
        /// The broker cannot be reached right now.
        public static let unavailable: Code = "unavailable"
        /// The broker refused the message (for example a RabbitMQ `basic.nack`).
        public static let rejected: Code = "rejected"
        /// The broker could not route the message anywhere.
        public static let unroutable: Code = "unroutable"
        /// The confirm did not arrive in time; the broker may still have the message.
        public static let outcomeUnknown: Code = "outcome-unknown"
        /// A buffer is full; the caller must slow down.
        public static let backpressure: Code = "backpressure"
        /// The transport or subscription was shut down.
        public static let closed: Code = "closed"
        /// The transport was used before ``Transport/start()``.
        public static let notStarted: Code = "not-started"
        /// The subscription ended because the connection to the broker was lost.
        public static let subscriptionLost: Code = "subscription-lost"
        /// A delivery was settled twice, or after its channel was lost.
        public static let invalidSettlement: Code = "invalid-settlement"
        /// The operation needs a capability this transport does not have.
        public static let unsupported: Code = "unsupported"
        /// An error the transport cannot recover from; recreate it.
        public static let fatal: Code = "fatal"
        /// A circuit breaker refused the call; try another transport or later.
        public static let circuitOpen: Code = "circuit-open"
        /// A fault injected on purpose by a test script.
        public static let injectedFault: Code = "injected-fault"
        /// The transport did not answer within the producer's attempt timeout; the attempt was abandoned
        /// and may still be confirmed later.
        public static let timedOut: Code = "timed-out"
    }
}

extension CourierError {
    /// A configuration error naming the field (for example `transports[1].url`) and the fix.
    public static func configuration(field: String, _ problem: String) -> CourierError {
        CourierError(.invalidConfiguration, "\(field): \(problem)")
    }

    /// The broker is unreachable; retry later or fail over.
    public static func unavailable(_ message: String, transport: String? = nil) -> CourierError {
        CourierError(.unavailable, message, isRetriable: true, transport: transport)
    }

    /// The confirm was lost after the message left; a resend may duplicate it.
    public static func outcomeUnknown(_ message: String, transport: String? = nil) -> CourierError {
        CourierError(.outcomeUnknown, message, isRetriable: true, mayDuplicate: true, transport: transport)
    }

    /// The transport or subscription is closed.
    public static func closed(_ message: String, transport: String? = nil) -> CourierError {
        CourierError(.closed, message, transport: transport)
    }
}
