/// Jepsen's queue checker, applied to one run: every message counted once in each category.
public struct ChaosCounts: Sendable, Hashable, Codable {
    /// Messages the producer recorded before publishing.
    public var attempted: Int
    /// Messages the producer took responsibility for (a broker confirmed them, or the spool holds them).
    public var confirmed: Int
    /// Confirmed and consumed.
    public var ok: Int
    /// Confirmed but never consumed: must be 0.
    public var lost: Int
    /// Consumed but never attempted: must be 0.
    public var unexpected: Int
    /// Messages whose effect happened more than once: must be 0 for exactly-once effects.
    public var duplicated: Int
    /// Attempted with an unknown outcome (no answer reached the ledger), yet consumed.
    public var recovered: Int
    /// Attempted with an unknown outcome and never consumed (allowed: nobody was told it was sent).
    public var unconfirmedAbsent: Int
    /// Confirmed messages that went through the spool.
    public var spooled: Int
    /// Deliveries the idempotency layer removed (acked without running the handler).
    public var removedByIdempotency: Int
    /// Messages sent to the dead-letter destination.
    public var deadLettered: Int

    /// A run passes when nothing confirmed was lost, nothing unexpected came, and every consumed
    /// message's effect happened exactly once.
    public var passed: Bool { lost == 0 && unexpected == 0 && duplicated == 0 }

    /// The counts of `ledger`.
    public init(ledger: LedgerSnapshot) {
        let consumed = Set(ledger.effects.keys)
        attempted = ledger.attempted.count
        confirmed = ledger.acknowledged.count
        ok = ledger.acknowledged.intersection(consumed).count
        lost = ledger.acknowledged.subtracting(consumed).count
        unexpected = consumed.subtracting(ledger.attempted).count
        duplicated = ledger.effects.values.filter { $0 > 1 }.count
        let unconfirmed = ledger.attempted.subtracting(ledger.acknowledged)
        recovered = unconfirmed.intersection(consumed).count
        unconfirmedAbsent = unconfirmed.subtracting(consumed).count
        spooled = ledger.spooled.intersection(ledger.acknowledged).count
        removedByIdempotency = ledger.removedByIdempotency
        deadLettered = ledger.deadLettered
    }

    /// Why the run failed, or nil when it passed.
    public var failureReasons: [String] {
        var reasons: [String] = []
        if lost > 0 { reasons.append("\(lost) confirmed message(s) never consumed") }
        if unexpected > 0 { reasons.append("\(unexpected) consumed message(s) never attempted") }
        if duplicated > 0 { reasons.append("\(duplicated) message(s) whose effect happened more than once") }
        return reasons
    }
}
