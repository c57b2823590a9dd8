import CourierChaos
import Testing

@Suite struct ChaosCountsTests {
    @Test func everyConfirmedMessageConsumedOncePasses() {
        let ids: Set<String> = ["a", "b", "c"]
        let counts = ChaosCounts(ledger: LedgerSnapshot(attempted: ids, acknowledged: ids, effects: ["a": 1, "b": 1, "c": 1]))
        #expect(counts.attempted == 3)
        #expect(counts.confirmed == 3)
        #expect(counts.ok == 3)
        #expect(counts.lost == 0 && counts.unexpected == 0 && counts.duplicated == 0 && counts.recovered == 0)
        #expect(counts.passed)
    }
}
