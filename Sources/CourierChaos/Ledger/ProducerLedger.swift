import Foundation

/// The producer side of a run's ledger (`producer.sqlite`): every message attempted (written before the
/// publish starts), every outcome the producer reported (confirmed by a transport, spooled, drained from
/// the spool, failed) and the producer's failover events. Producer processes of one run share the file.
final class ProducerLedger: Sendable {
    static let fileName = "producer.sqlite"
    static let schema = """
        CREATE TABLE IF NOT EXISTS attempts(id TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, process INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS outcomes(id TEXT NOT NULL, kind TEXT NOT NULL, transport TEXT, at_ms INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS outcomes_by_id ON outcomes(id, kind);
        CREATE TABLE IF NOT EXISTS events(at_ms INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL);
        """
    private let connection: LedgerConnection
    private let process = Int64(ProcessInfo.processInfo.processIdentifier)

    init(directory: String) throws(ChaosError) {
        connection = try LedgerConnection(path: directory + "/" + Self.fileName, schema: Self.schema)
    }

    /// Records `ids` as attempted, in one transaction, before any of them is published.
    func recordAttempts(_ ids: [String]) throws(ChaosError) {
        let now = WallClock.milliseconds()
        try connection.with { database throws(ChaosError) in
            try database.transaction { () throws(ChaosError) in
                for id in ids {
                    try database.run("INSERT OR IGNORE INTO attempts(id, at_ms, process) VALUES (?, ?, ?)", [.text(id), .integer(now), .integer(process)])
                }
            }
        }
    }

    /// Records what the producer answered for each message, in one transaction.
    func recordOutcomes(_ outcomes: [PublishOutcomeRecord]) throws(ChaosError) {
        try connection.with { database throws(ChaosError) in
            try database.transaction { () throws(ChaosError) in
                for outcome in outcomes {
                    try database.run(
                        "INSERT INTO outcomes(id, kind, transport, at_ms) VALUES (?, ?, ?, ?)",
                        [.text(outcome.id), .text(outcome.kind.rawValue), outcome.transport.map(LedgerValue.text) ?? .null, .integer(outcome.atMilliseconds)]
                    )
                }
            }
        }
    }

    /// Records a producer event (failover, failback) with the time it happened.
    func recordEvent(kind: String, detail: String) throws(ChaosError) {
        let now = WallClock.milliseconds()
        try connection.with { database throws(ChaosError) in
            try database.run("INSERT INTO events(at_ms, kind, detail) VALUES (?, ?, ?)", [.integer(now), .text(kind), .text(detail)])
        }
    }

    func close() { connection.close() }
}

/// One outcome the producer reported for a message.
struct PublishOutcomeRecord: Sendable {
    enum Kind: String, Sendable {
        /// A broker confirmed it (the receipt names the transport).
        case confirmed
        /// Every transport refused; it is in the durable spool (the producer took responsibility).
        case spooled
        /// The relay published it from the spool (the event names the transport).
        case drained
        /// `publish` threw: the producer did not take responsibility.
        case failed
    }

    var id: String
    var kind: Kind
    var transport: String?
    var atMilliseconds: Int64 = WallClock.milliseconds()
}
