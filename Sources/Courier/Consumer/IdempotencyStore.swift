/// What an ``IdempotencyStore`` says about a key a consumer wants to process.
public enum IdempotencyClaim: Sendable, Hashable {
    /// The key is now claimed by this caller: run the handler, then ``IdempotencyStore/complete(_:)`` or
    /// ``IdempotencyStore/release(_:)``.
    case claimed
    /// The key was processed before: ack without running the handler.
    case completed
    /// Another handler holds the key right now: do not run it twice; try again later.
    case inProgress
}

/// Remembers which idempotency keys were processed, shared by every transport of a failover set, so a
/// message that arrives twice (redelivery, failover, an unknown publish outcome) has its effects once.
public protocol IdempotencyStore: Sendable {
    /// Claims `key` for `lease` (after which a crashed holder's claim lapses and another may claim it).
    func claim(_ key: String, lease: Duration) async throws -> IdempotencyClaim
    /// Marks `key` done; later claims answer ``IdempotencyClaim/completed`` until it expires.
    func complete(_ key: String) async throws
    /// Gives a claimed key back after a failure, so a retry can run.
    func release(_ key: String) async throws
}
