import Courier
import CourierSQLite
import CSQLite

/// A value bound to or read from a ledger statement.
typealias LedgerValue = SQLiteValue

/// A chaos ledger file on CourierSQLite's connection wrapper, so a producer or consumer process and the
/// scenario driver can read and write it at once (WAL). `synchronous = NORMAL`: a committed row survives a
/// SIGKILL of the writing process (the faults injected here), not a power cut (which no scenario injects).
///
/// Not thread-safe by itself: ``LedgerConnection`` serialises every call behind a lock.
final class LedgerDatabase {
    private let database: SQLiteDatabase
    var path: String { database.path }

    init(path: String) throws(ChaosError) {
        database = try Self.ledger(path) { () throws(CourierError) in try SQLiteDatabase(path: path) }
        // Several processes write one ledger: wait for each other's short transactions.
        try execute("PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL")
    }

    func close() { database.close() }

    /// Runs statements that return no rows.
    func execute(_ sql: String) throws(ChaosError) {
        try Self.ledger(path) { () throws(CourierError) in try database.execute(sql) }
    }

    /// Runs one statement with `values` bound to its parameters, once.
    func run(_ sql: String, _ values: [LedgerValue]) throws(ChaosError) {
        _ = try rows(sql, values)
    }

    /// Every row of `sql`, each as its columns.
    func rows(_ sql: String, _ values: [LedgerValue] = []) throws(ChaosError) -> [[LedgerValue]] {
        try Self.ledger(path) { () throws(CourierError) in
            try database.withStatement(sql) { statement throws(CourierError) in
                for (offset, value) in values.enumerated() { database.bind(statement, Int32(offset + 1), value) }
                var rows: [[LedgerValue]] = []
                let count = sqlite3_column_count(statement)
                while try database.step(statement) {
                    rows.append((0..<count).map { database.column(statement, $0) })
                }
                return rows
            }
        }
    }

    /// The first column of the first row, as an integer (0 when there is no row).
    func queryInteger(_ sql: String, _ values: [LedgerValue] = []) throws(ChaosError) -> Int64 {
        try rows(sql, values).first?.first?.integer ?? 0
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<Result>(_ body: () throws(ChaosError) -> Result) throws(ChaosError) -> Result {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body`, saying which ledger a storage error came from.
    private static func ledger<Result>(_ path: String, _ body: () throws(CourierError) -> Result) throws(ChaosError) -> Result {
        do {
            return try body()
        } catch {
            throw ChaosError("ledger \(path): \(error.message)")
        }
    }
}
