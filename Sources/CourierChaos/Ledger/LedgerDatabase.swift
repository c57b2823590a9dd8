import CSQLite
import Foundation

/// A chaos ledger file: one SQLite connection, WAL mode, so a producer or consumer process and the
/// scenario driver can read and write it at once. `synchronous = NORMAL`: a committed row survives a
/// SIGKILL of the writing process (the faults injected here), not a power cut (which no scenario injects).
///
/// Not thread-safe by itself: ``LedgerConnection`` serialises every call behind a lock.
final class LedgerDatabase {
    let path: String
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    init(path: String) throws(ChaosError) {
        self.path = path
        var opened: OpaquePointer?
        let status = sqlite3_open_v2(path, &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        handle = opened
        guard status == SQLITE_OK else {
            close()
            throw ChaosError("cannot open the ledger \(path) (SQLite code \(status)); check that its directory is writable")
        }
        try execute("PRAGMA busy_timeout = 10000")
        _ = try queryInteger("PRAGMA journal_mode = WAL")
        try execute("PRAGMA synchronous = NORMAL")
    }

    deinit { close() }

    func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs statements that return no rows.
    func execute(_ sql: String) throws(ChaosError) {
        guard let handle else { throw ChaosError("the ledger \(path) is closed") }
        let status = sqlite3_exec(handle, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw failure(sql) }
    }

    /// Runs one statement with `values` bound to its parameters, once.
    func run(_ sql: String, _ values: [LedgerValue]) throws(ChaosError) {
        try withStatement(sql, values) { statement throws(ChaosError) in
            while try step(statement) {}
        }
    }

    /// Every row of `sql`, each as its columns.
    func rows(_ sql: String, _ values: [LedgerValue] = []) throws(ChaosError) -> [[LedgerValue]] {
        try withStatement(sql, values) { statement throws(ChaosError) in
            var rows: [[LedgerValue]] = []
            let count = sqlite3_column_count(statement)
            while try step(statement) {
                rows.append((0..<count).map { column(statement, $0) })
            }
            return rows
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

    private func withStatement<Result>(
        _ sql: String, _ values: [LedgerValue], _ body: (OpaquePointer) throws(ChaosError) -> Result
    ) throws(ChaosError) -> Result {
        guard let handle else { throw ChaosError("the ledger \(path) is closed") }
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var prepared: OpaquePointer?
            guard sqlite3_prepare_v2(handle, sql, -1, &prepared, nil) == SQLITE_OK, let prepared else { throw failure(sql) }
            statements[sql] = prepared
            statement = prepared
        }
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, index)
            case .integer(let number): sqlite3_bind_int64(statement, index, number)
            case .text(let text): sqlite3_bind_text(statement, index, text, -1, transient)
            }
        }
        return try body(statement)
    }

    private func step(_ statement: OpaquePointer) throws(ChaosError) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw failure("step")
        }
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> LedgerValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_TEXT: return .text(sqlite3_column_text(statement, index).map { String(cString: $0) } ?? "")
        default: return .null
        }
    }

    private func failure(_ what: String) -> ChaosError {
        let detail = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed"
        return ChaosError("ledger \(path): \(detail) (in: \(what.prefix(80)))")
    }

    /// SQLITE_TRANSIENT: SQLite copies bound text before the call returns.
    private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// A value bound to or read from a ledger statement.
enum LedgerValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)

    var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
    var text: String? { if case .text(let value) = self { value } else { nil } }
}
