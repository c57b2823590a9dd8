/// How a ``Producer`` retries, trips breakers and relays its spool.
public struct ProducerConfiguration: Sendable {
    /// Retries on one transport before moving to the next. Defaults keep failover within about a second.
    public var retry: RetryPolicy
    /// The retry budget each transport gets: at most `maxTokens / 2` failures in a row may be retried.
    public var retryBudgetTokens: Double
    /// Tokens a success earns back.
    public var retryBudgetRatio: Double
    /// One breaker per transport with these settings.
    public var breaker: CircuitBreakerConfiguration
    /// While every transport refuses, the relay looks again this often.
    public var relayInterval: Duration
    /// The relay reads this many spooled messages at a time.
    public var relayBatchSize: Int
    /// How long one attempt on one transport may wait for its confirmation; `nil`: as long as the
    /// transport takes (a hung broker is then noticed by the transport itself, for RabbitMQ after two
    /// missed heartbeats). A timed-out attempt counts as a breaker failure and the next transport is
    /// tried at once; the abandoned attempt may still be confirmed, which consumers absorb by the
    /// idempotency key. Each attempt then costs two extra tasks, so it is off by default.
    public var attemptTimeout: Duration?

    public init(
        retry: RetryPolicy = RetryPolicy(
            maxAttempts: 3,
            deadline: .seconds(1),
            backoff: Backoff(initial: .milliseconds(20), multiplier: 2, maximum: .milliseconds(200), jitter: .full)
        ),
        retryBudgetTokens: Double = 20,
        retryBudgetRatio: Double = 0.1,
        breaker: CircuitBreakerConfiguration = CircuitBreakerConfiguration(),
        relayInterval: Duration = .milliseconds(100),
        relayBatchSize: Int = 64,
        attemptTimeout: Duration? = nil
    ) {
        self.retry = retry
        self.retryBudgetTokens = retryBudgetTokens
        self.retryBudgetRatio = retryBudgetRatio
        self.breaker = breaker
        self.relayInterval = relayInterval
        self.relayBatchSize = relayBatchSize
        self.attemptTimeout = attemptTimeout
    }
}
