import Foundation

/// A ``LedgerDatabase`` shared by the tasks of one process: every call holds a lock. Ledger calls are
/// short (no fsync, see ``LedgerDatabase``), so holding it briefly on a pool thread is acceptable here.
final class LedgerConnection: @unchecked Sendable {
    // `database` is only touched while `lock` is held.
    private let lock = NSLock()
    private var database: LedgerDatabase?
    let path: String

    init(path: String, schema: String) throws(ChaosError) {
        let database = try LedgerDatabase(path: path)
        try database.execute(schema)
        self.database = database
        self.path = path
    }

    func with<Result>(_ body: (LedgerDatabase) throws(ChaosError) -> Result) throws(ChaosError) -> Result {
        lock.lock()
        defer { lock.unlock() }
        guard let database else { throw ChaosError("the ledger \(path) is closed") }
        return try body(database)
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        database?.close()
        database = nil
    }
}
