@testable import CourierChaos
import Foundation
import Testing

/// The consumer ledger as an idempotency store: the effect is committed with the key, so a consumer
/// that dies before completing leaves neither, and a redelivery after completion runs nothing.
/// A class, so each test's ledger directory is removed after it (`deinit`).
@Suite final class ConsumerLedgerTests {
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("courier-chaos-\(UUID().uuidString)").path

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    @Test func completedKeyRecordsOneEffectAndRemovesTheDuplicate() async throws {
        let ledger = try ConsumerLedger(directory: directory)
        #expect(try await ledger.claim("k1", lease: .seconds(5)) == .claimed)
        ledger.stageEffect(key: "k1", messageID: "m1", transport: "rabbitmq")
        try await ledger.complete("k1")
        #expect(try await ledger.claim("k1", lease: .seconds(5)) == .completed)
        ledger.close()
        let snapshot = try LedgerReader(directory: directory).snapshot()
        #expect(snapshot.effects == ["m1": 1])
        #expect(snapshot.removedByIdempotency == 1)
    }

    @Test func aConsumerKilledBeforeCompletingLeavesNoEffectAndItsLeaseLapses() async throws {
        let crashed = try ConsumerLedger(directory: directory)
        #expect(try await crashed.claim("k1", lease: .milliseconds(200)) == .claimed)
        crashed.stageEffect(key: "k1", messageID: "m1", transport: "rabbitmq")
        crashed.close() // dies here: the staged effect was never committed
        let successor = try ConsumerLedger(directory: directory)
        #expect(try await successor.claim("k1", lease: .seconds(5)) == .inProgress)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await successor.claim("k1", lease: .seconds(5)) == .claimed)
        successor.stageEffect(key: "k1", messageID: "m1", transport: "rabbitmq")
        try await successor.complete("k1")
        successor.close()
        #expect(try LedgerReader(directory: directory).snapshot().effects == ["m1": 1])
    }

    @Test func aReleasedKeyCanBeClaimedAgainWithoutAnEffect() async throws {
        let ledger = try ConsumerLedger(directory: directory)
        #expect(try await ledger.claim("k1", lease: .seconds(5)) == .claimed)
        ledger.stageEffect(key: "k1", messageID: "m1", transport: "kafka")
        try await ledger.release("k1")
        #expect(try await ledger.claim("k1", lease: .seconds(5)) == .claimed)
        ledger.close()
        #expect(try LedgerReader(directory: directory).snapshot().effects.isEmpty)
    }

    @Test func aDoubleCompletionShowsAsTwoEffectRows() async throws {
        // If the store ever let a completed key run again, the report must see it: no unique constraint.
        let ledger = try ConsumerLedger(directory: directory)
        for _ in 0..<2 {
            ledger.stageEffect(key: "k1", messageID: "m1", transport: "kafka")
            try await ledger.complete("k1")
        }
        ledger.close()
        let counts = ChaosCounts(ledger: try LedgerReader(directory: directory).snapshot().with(attempted: ["m1"]))
        #expect(counts.duplicated == 1)
        #expect(!counts.passed)
    }
}

extension LedgerSnapshot {
    fileprivate func with(attempted ids: Set<String>) -> LedgerSnapshot {
        var copy = self
        copy.attempted = ids
        copy.acknowledged = ids
        return copy
    }
}
