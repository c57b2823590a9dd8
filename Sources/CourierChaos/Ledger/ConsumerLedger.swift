import Courier
import Foundation

/// The consumer side of a run's ledger (`consumer.sqlite`), which is also the consumers' idempotency
/// store: the handler's effect and the completed key are committed in one transaction.
///
/// Why not ``SQLiteIdempotencyStore`` beside an effects table: the key and the effect would sit in two
/// commits, and a consumer killed between them runs the effect again on redelivery. Exactly-once
/// effects need the effect and the key in one transaction (a transactional inbox); this store is one.
///
/// The handler calls ``stageEffect(key:messageID:transport:)``; the consumer pipeline then calls
/// ``complete(_:)``, which writes the effect row and marks the key done together. Effect rows have no
/// unique constraint, so an effect that does run twice shows up as two rows.
final class ConsumerLedger: IdempotencyStore {
    static let fileName = "consumer.sqlite"
    static let schema = """
        CREATE TABLE IF NOT EXISTS keys(key TEXT PRIMARY KEY, completed INTEGER NOT NULL, lease_until_ms INTEGER NOT NULL, holder INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS effects(id TEXT NOT NULL, transport TEXT NOT NULL, process INTEGER NOT NULL, at_ms INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS effects_by_id ON effects(id);
        CREATE TABLE IF NOT EXISTS removed(key TEXT NOT NULL, at_ms INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS dead_letters(id TEXT NOT NULL, reason TEXT NOT NULL, at_ms INTEGER NOT NULL);
        """
    private let connection: LedgerConnection
    private let process = Int64(ProcessInfo.processInfo.processIdentifier)
    private let staged = LockedDictionary<String, StagedEffect>()

    init(directory: String) throws(ChaosError) {
        connection = try LedgerConnection(path: directory + "/" + Self.fileName, schema: Self.schema)
    }

    /// Remembers the handler's effect for `key` until the pipeline completes the key.
    func stageEffect(key: String, messageID: String, transport: String) {
        staged.set(key, StagedEffect(messageID: messageID, transport: transport))
    }

    func claim(_ key: String, lease: Duration, holder: IdempotencyHolder) async throws -> IdempotencyClaim {
        let now = WallClock.milliseconds()
        let leaseUntil = now + Int64(lease.components.seconds * 1000 + lease.components.attoseconds / 1_000_000_000_000_000)
        return try connection.with { database throws(ChaosError) in
            try database.transaction { () throws(ChaosError) -> IdempotencyClaim in
                let row = try database.rows("SELECT completed, lease_until_ms FROM keys WHERE key = ?", [.text(key)]).first
                if let row, row.first?.integer == 1 {
                    try database.run("INSERT INTO removed(key, at_ms) VALUES (?, ?)", [.text(key), .integer(now)])
                    return .completed
                }
                if let row, let until = row.last?.integer, until > now { return .inProgress }
                try database.run(
                    "INSERT OR REPLACE INTO keys(key, completed, lease_until_ms, holder) VALUES (?, 0, ?, ?)",
                    [.text(key), .integer(leaseUntil), .integer(Int64(bitPattern: holder.token))]
                )
                return .claimed
            }
        }
    }

    func complete(_ key: String) async throws {
        let effect = staged.remove(key)
        let now = WallClock.milliseconds()
        try connection.with { database throws(ChaosError) in
            try database.transaction { () throws(ChaosError) in
                if let effect {
                    try database.run(
                        "INSERT INTO effects(id, transport, process, at_ms) VALUES (?, ?, ?, ?)",
                        [.text(effect.messageID), .text(effect.transport), .integer(process), .integer(now)]
                    )
                }
                try database.run("INSERT OR REPLACE INTO keys(key, completed, lease_until_ms) VALUES (?, 1, 0)", [.text(key)])
            }
        }
    }

    func release(_ key: String, holder: IdempotencyHolder) async throws {
        _ = staged.remove(key)
        try connection.with { database throws(ChaosError) in
            // Only the releaser's own claim: a twin's claim taken after a lapsed lease stays.
            try database.run(
                "DELETE FROM keys WHERE key = ?1 AND completed = 0 AND (?2 = 0 OR holder = ?2)",
                [.text(key), .integer(Int64(bitPattern: holder.token))]
            )
        }
    }

    /// Records a message the consumer sent to the dead-letter destination.
    func recordDeadLetter(id: String, reason: String) throws(ChaosError) {
        try connection.with { database throws(ChaosError) in
            try database.run("INSERT INTO dead_letters(id, reason, at_ms) VALUES (?, ?, ?)", [.text(id), .text(reason), .integer(WallClock.milliseconds())])
        }
    }

    func close() { connection.close() }
}

private struct StagedEffect: Sendable {
    var messageID: String
    var transport: String
}
