import CourierChaos
import Testing

/// The queue checker's categories, each from a hand-built ledger.
@Suite struct ChaosCountsTests {
    private let ids: Set<String> = ["a", "b", "c"]

    @Test func everyConfirmedMessageConsumedOncePasses() {
        let counts = ChaosCounts(ledger: LedgerSnapshot(attempted: ids, acknowledged: ids, effects: ["a": 1, "b": 1, "c": 1]))
        #expect(counts.attempted == 3)
        #expect(counts.confirmed == 3)
        #expect(counts.ok == 3)
        #expect(counts.lost == 0 && counts.unexpected == 0 && counts.duplicated == 0 && counts.recovered == 0)
        #expect(counts.passed)
        #expect(counts.failureReasons.isEmpty)
    }

    @Test func confirmedButNeverConsumedIsLostAndFails() {
        let counts = ChaosCounts(ledger: LedgerSnapshot(attempted: ids, acknowledged: ids, effects: ["a": 1, "b": 1]))
        #expect(counts.lost == 1)
        #expect(counts.ok == 2)
        #expect(!counts.passed)
        #expect(counts.failureReasons == ["1 confirmed message(s) never consumed"])
    }

    @Test func consumedButNeverAttemptedIsUnexpectedAndFails() {
        let counts = ChaosCounts(ledger: LedgerSnapshot(attempted: ids, acknowledged: ids, effects: ["a": 1, "b": 1, "c": 1, "z": 1]))
        #expect(counts.unexpected == 1)
        #expect(counts.lost == 0)
        #expect(!counts.passed)
    }

    @Test func anEffectTwiceIsDuplicatedAndFails() {
        let counts = ChaosCounts(ledger: LedgerSnapshot(attempted: ids, acknowledged: ids, effects: ["a": 2, "b": 1, "c": 3]))
        #expect(counts.duplicated == 2)
        #expect(counts.ok == 3)
        #expect(!counts.passed)
    }

    @Test func unknownOutcomeConsumedIsRecoveredAndUnknownAbsentIsAllowed() {
        let counts = ChaosCounts(ledger: LedgerSnapshot(attempted: ids, acknowledged: ["a"], effects: ["a": 1, "b": 1]))
        #expect(counts.confirmed == 1)
        #expect(counts.recovered == 1)       // b: no answer reached the ledger, yet it was consumed
        #expect(counts.unconfirmedAbsent == 1) // c: no answer and never consumed: nobody was told it was sent
        #expect(counts.lost == 0)
        #expect(counts.passed)
    }

    @Test func spooledRemovedAndDeadLetteredAreCarriedThrough() {
        let ledger = LedgerSnapshot(
            attempted: ids, acknowledged: ids, spooled: ["b", "c", "x"], effects: ["a": 1, "b": 1, "c": 1],
            removedByIdempotency: 7, deadLettered: 2
        )
        let counts = ChaosCounts(ledger: ledger)
        #expect(counts.spooled == 2) // x was never acknowledged, so it does not count
        #expect(counts.removedByIdempotency == 7)
        #expect(counts.deadLettered == 2)
        #expect(counts.passed)
    }

    @Test func aLedgerWithEveryFaultReportsEveryReason() {
        let counts = ChaosCounts(ledger: LedgerSnapshot(attempted: ids, acknowledged: ids, effects: ["a": 2, "z": 1]))
        #expect(!counts.passed)
        #expect(counts.lost == 2)
        #expect(counts.unexpected == 1)
        #expect(counts.duplicated == 1)
        #expect(counts.failureReasons.count == 3)
    }
}
