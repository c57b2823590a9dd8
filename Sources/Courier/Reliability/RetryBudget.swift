import Synchronization

/// A token bucket that stops retries from multiplying load during an outage, in the style of gRPC's
/// retry throttling: every failed call withdraws a token, every success deposits `tokenRatio` tokens, and
/// retries are allowed only while more than half of `maxTokens` remain. When a broker is down, failures
/// drain the bucket quickly and calls fail fast (or fail over) instead of retrying.
public final class RetryBudget: Sendable {
    public let maxTokens: Double
    public let tokenRatio: Double
    private let tokens: Mutex<Double>

    public init(maxTokens: Double = 20, tokenRatio: Double = 0.1) {
        self.maxTokens = max(1, maxTokens)
        self.tokenRatio = max(0, tokenRatio)
        tokens = Mutex(self.maxTokens)
    }

    /// A budget that never refuses a retry.
    public static var unlimited: RetryBudget { RetryBudget(maxTokens: .greatestFiniteMagnitude / 4, tokenRatio: 0) }

    /// Tokens left.
    public var available: Double { tokens.withLock { $0 } }

    /// Whether a retry may be made now.
    public var allowsRetry: Bool { tokens.withLock { $0 > maxTokens / 2 } }

    public func recordSuccess() { tokens.withLock { $0 = min(maxTokens, $0 + tokenRatio) } }

    public func recordFailure() { tokens.withLock { $0 = max(0, $0 - 1) } }
}
