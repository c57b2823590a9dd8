/// What a run's ledger holds once the run is over: the plain values the accounting works on, so the
/// accounting is a pure function that tests can feed hand-built ledgers.
public struct LedgerSnapshot: Sendable, Hashable {
    /// Ids the producer recorded before publishing.
    public var attempted: Set<String>
    /// Ids the producer took responsibility for: a broker confirmed them, or they were spooled durably.
    public var acknowledged: Set<String>
    /// Ids among ``acknowledged`` that went through the spool.
    public var spooled: Set<String>
    /// How many times the handler's effect happened, per id (an id missing here was never consumed).
    public var effects: [String: Int]
    /// Deliveries the idempotency layer acked without running the handler (its key was already done).
    public var removedByIdempotency: Int
    /// Messages the consumer sent to the dead-letter destination.
    public var deadLettered: Int

    public init(
        attempted: Set<String>, acknowledged: Set<String>, spooled: Set<String> = [], effects: [String: Int],
        removedByIdempotency: Int = 0, deadLettered: Int = 0
    ) {
        self.attempted = attempted
        self.acknowledged = acknowledged
        self.spooled = spooled
        self.effects = effects
        self.removedByIdempotency = removedByIdempotency
        self.deadLettered = deadLettered
    }
}
