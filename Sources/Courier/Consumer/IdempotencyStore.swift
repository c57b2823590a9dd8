/// What an ``IdempotencyStore`` says about a key a consumer wants to process.
public enum IdempotencyClaim: Sendable, Hashable {
    /// The key is now claimed by this caller: run the handler, then ``IdempotencyStore/complete(_:)`` or
    /// ``IdempotencyStore/release(_:holder:)``.
    case claimed
    /// The key was processed before: ack without running the handler.
    case completed
    /// Another handler holds the key right now: do not run it twice; try again later.
    case inProgress
}

/// Who holds a claim. A release only gives back the holder's own claim: a handler that outlived its lease
/// must not free the claim a twin took after the lease lapsed (that would let a third copy run).
public struct IdempotencyHolder: Sendable, Hashable {
    /// The token stored with the claim.
    public let token: UInt64

    public init(token: UInt64) { self.token = token }

    /// A holder for callers that do not tell their claims apart: its releases free any claim of the key.
    public static let anyone = IdempotencyHolder(token: 0)
}

/// Remembers which idempotency keys were processed, shared by every transport of a failover set, so a
/// message that arrives twice (redelivery, failover, an unknown publish outcome) has its effects once.
public protocol IdempotencyStore: Sendable {
    /// Claims `key` for `holder` for `lease` (after which a crashed holder's claim lapses and another may
    /// claim it).
    func claim(_ key: String, lease: Duration, holder: IdempotencyHolder) async throws -> IdempotencyClaim
    /// Marks `key` done; later claims answer ``IdempotencyClaim/completed`` until it expires.
    func complete(_ key: String) async throws
    /// Gives `holder`'s claim of `key` back after a failure, so a retry can run. A claim taken since by
    /// another holder stays (``IdempotencyHolder/anyone`` frees it regardless).
    func release(_ key: String, holder: IdempotencyHolder) async throws
}

extension IdempotencyStore {
    /// Claims `key` as ``IdempotencyHolder/anyone``.
    public func claim(_ key: String, lease: Duration) async throws -> IdempotencyClaim {
        try await claim(key, lease: lease, holder: .anyone)
    }

    /// Frees whatever claim `key` has (``IdempotencyHolder/anyone``).
    public func release(_ key: String) async throws {
        try await release(key, holder: .anyone)
    }
}
