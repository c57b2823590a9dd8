/// Settings of a ``CircuitBreaker``, with resilience4j's meanings.
public struct CircuitBreakerConfiguration: Sendable {
    /// Which calls the failure and slow-call rates are computed over.
    public enum Window: Sendable, Hashable {
        /// The last `n` calls.
        case count(Int)
        /// The calls of the last `seconds` seconds, in one-second buckets.
        case time(seconds: Int)
    }

    public var window: Window
    /// Open when at least this percentage of the window's calls failed (0-100).
    public var failureRateThreshold: Double
    /// Open when at least this percentage of the window's calls were slow (0-100; 100 means only when all).
    public var slowCallRateThreshold: Double
    /// A call that takes longer than this is slow, whether it succeeded or not.
    public var slowCallDuration: Duration
    /// Rates are not judged until the window holds this many calls.
    public var minimumCalls: Int
    /// How long the breaker stays open before it lets trial calls through (half-open).
    public var openDuration: Duration
    /// Each consecutive trip without a successful close multiplies the open duration by this (1 = fixed).
    public var openDurationMultiplier: Double
    /// The open duration never grows beyond this.
    public var maximumOpenDuration: Duration
    /// Trial calls let through in half-open; their failure rate decides between closed and open.
    public var permittedCallsInHalfOpen: Int
    /// Which errors count as failures. Others (a caller's bad input, say) neither fail nor succeed.
    public var recordsError: @Sendable (any Error) -> Bool

    public init(
        window: Window = .count(20),
        failureRateThreshold: Double = 50,
        slowCallRateThreshold: Double = 100,
        slowCallDuration: Duration = .seconds(5),
        minimumCalls: Int = 5,
        openDuration: Duration = .seconds(2),
        openDurationMultiplier: Double = 1,
        maximumOpenDuration: Duration = .seconds(60),
        permittedCallsInHalfOpen: Int = 3,
        recordsError: @escaping @Sendable (any Error) -> Bool = CircuitBreakerConfiguration.brokerFailure
    ) {
        self.window = window
        self.failureRateThreshold = failureRateThreshold
        self.slowCallRateThreshold = slowCallRateThreshold
        self.slowCallDuration = slowCallDuration
        self.minimumCalls = minimumCalls
        self.openDuration = openDuration
        self.openDurationMultiplier = openDurationMultiplier
        self.maximumOpenDuration = maximumOpenDuration
        self.permittedCallsInHalfOpen = permittedCallsInHalfOpen
        self.recordsError = recordsError
    }

    /// The default: errors that say the broker is in trouble (retriable or fatal ``CourierError``s, a
    /// timed-out attempt, and any non-Courier error), not errors in the caller's input such as an
    /// oversized message.
    public static let brokerFailure: @Sendable (any Error) -> Bool = { error in
        if error is CancellationError { return false }
        guard let error = error as? CourierError else { return true }
        return error.isRetriable || error.isFatal || error.code == .timedOut
    }

    /// Throws a clear error for values outside their ranges; `field` prefixes the names.
    public func validate(field: String = "breaker") throws(CourierError) {
        func check(_ ok: Bool, _ name: String, _ rule: String) throws(CourierError) {
            if !ok { throw CourierError.configuration(field: "\(field).\(name)", rule) }
        }
        switch window {
        case .count(let size): try check(size >= 1, "window", "a count window needs at least 1 call")
        case .time(let seconds): try check(seconds >= 1, "window", "a time window needs at least 1 second")
        }
        try check((0...100).contains(failureRateThreshold), "failureRateThreshold", "must be a percentage from 0 to 100")
        try check((0...100).contains(slowCallRateThreshold), "slowCallRateThreshold", "must be a percentage from 0 to 100")
        try check(slowCallDuration > .zero, "slowCallDurationMs", "must be more than 0")
        try check(minimumCalls >= 1, "minimumCalls", "must be at least 1")
        try check(openDuration > .zero, "openDurationMs", "must be more than 0")
        try check(openDurationMultiplier >= 1, "openDurationMultiplier", "must be at least 1 (1 keeps the open duration fixed)")
        try check(maximumOpenDuration >= openDuration, "maximumOpenDurationMs", "must be at least the open duration")
        try check(permittedCallsInHalfOpen >= 1, "permittedCallsInHalfOpen", "must be at least 1")
    }
}
