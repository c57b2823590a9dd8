import Synchronization

/// When and how often to retry a failed call.
///
/// Only errors ``isRetriable`` accepts are retried (by default: ``CourierError/isRetriable``). Attempts
/// stop at ``maxAttempts``, when the next delay would pass ``deadline``, or when the ``RetryBudget`` is
/// spent. Usable on its own around any async operation, without the rest of Courier.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included; 1 means no retry.
    public var maxAttempts: Int
    /// The whole call, retries and delays included, gives up once this much time has passed.
    public var deadline: Duration?
    public var backoff: Backoff
    /// Which errors are worth retrying.
    public var isRetriable: @Sendable (any Error) -> Bool

    public init(
        maxAttempts: Int = 3,
        deadline: Duration? = .seconds(10),
        backoff: Backoff = Backoff(),
        isRetriable: @escaping @Sendable (any Error) -> Bool = RetryPolicy.courierRetriable
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.deadline = deadline
        self.backoff = backoff
        self.isRetriable = isRetriable
    }

    /// No retries at all.
    public static var never: RetryPolicy { RetryPolicy(maxAttempts: 1, deadline: nil) }

    /// The default classification: a ``CourierError`` flagged retriable.
    public static let courierRetriable: @Sendable (any Error) -> Bool = { error in
        (error as? CourierError)?.isRetriable ?? false
    }

    /// Runs `operation` (given the attempt number, from 1) until it succeeds or the policy gives up, and
    /// rethrows the last error then. Delays sleep on `clock`; cancellation ends the wait at once.
    public func run<Result>(
        clock: any CourierClock,
        budget: RetryBudget? = nil,
        generator: RandomSource = RandomSource(),
        onRetry: (_ attempt: Int, _ error: any Error, _ delay: Duration) -> Void = { _, _, _ in },
        _ operation: (_ attempt: Int) async throws -> Result
    ) async throws -> Result {
        let started = clock.now()
        var previousDelay: Duration?
        var attempt = 1
        while true {
            do {
                let result = try await operation(attempt)
                budget?.recordSuccess()
                return result
            } catch {
                budget?.recordFailure()
                guard attempt < maxAttempts, isRetriable(error), !(error is CancellationError),
                      budget?.allowsRetry ?? true
                else { throw error }
                let delay = generator.next { backoff.delay(retry: attempt, previous: previousDelay, using: &$0) }
                if let deadline, clock.now() - started + delay > deadline { throw error }
                onRetry(attempt, error, delay)
                try await clock.sleep(for: delay)
                previousDelay = delay
                attempt += 1
            }
        }
    }
}

/// A shareable, lockable random source; seed it for repeatable jitter in tests.
public final class RandomSource: Sendable {
    private let generator: Mutex<AnyGenerator>

    private enum AnyGenerator: Sendable {
        case system
        case seeded(SplitMix64)
    }

    /// System randomness.
    public init() { generator = Mutex(.system) }

    /// Deterministic randomness from `seed`.
    public init(seed: UInt64) { generator = Mutex(.seeded(SplitMix64(seed: seed))) }

    /// Runs `body` with exclusive use of the generator.
    public func next<T>(_ body: (inout any RandomNumberGenerator) -> T) -> T {
        generator.withLock { state in
            switch state {
            case .system:
                var system: any RandomNumberGenerator = SystemRandomNumberGenerator()
                return body(&system)
            case .seeded(let seeded):
                var boxed: any RandomNumberGenerator = seeded
                defer { if let advanced = boxed as? SplitMix64 { state = .seeded(advanced) } }
                return body(&boxed)
            }
        }
    }
}

/// SplitMix64: small, fast and good enough for jitter; deterministic for a given seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
