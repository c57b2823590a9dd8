import Courier
import CSQLite

/// A SQLite connection. Not thread-safe: only its ``SQLiteThread`` touches it. Package-wide so the chaos
/// ledgers use the same wrapper.
package final class SQLiteDatabase: @unchecked Sendable {
    package let path: String
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (creating if needed) `path`, checks it is a healthy SQLite file and sets WAL mode with full
    /// syncs, so a committed row survives a crash and a power cut.
    package init(path: String) throws(CourierError) {
        self.path = path
        var opened: OpaquePointer?
        let status = sqlite3_open_v2(path, &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        handle = opened
        guard status == SQLITE_OK else {
            let detail = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(status)"
            close()
            throw CourierError(
                .storageFailure,
                "cannot open \(path) (\(detail)); check that its directory exists and is writable by this user"
            )
        }
        do throws(CourierError) {
            try execute("PRAGMA busy_timeout = 5000")
            let check = try queryText("PRAGMA quick_check")
            guard check == "ok" else {
                throw CourierError(.storageFailure, "integrity check failed: \(check ?? "no answer")")
            }
            guard try queryText("PRAGMA journal_mode = WAL")?.lowercased() == "wal" else {
                throw CourierError(.storageFailure, "the file system does not allow write-ahead logging")
            }
            try execute("PRAGMA synchronous = FULL")
        } catch {
            close()
            throw CourierError(
                .storageFailure,
                "\(path) is not a usable SQLite database (\(error.message)); move it aside (Courier then creates a new one) and recover its rows with sqlite3's .recover if you need them"
            )
        }
    }

    deinit { close() }

    package func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one or more statements without results.
    package func execute(_ sql: String) throws(CourierError) {
        guard let handle else { throw closedError }
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &message)
        guard status == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? errorMessage
            sqlite3_free(message)
            throw CourierError(.storageFailure, "\(path): \(text)")
        }
    }

    /// The first column of the first row of `sql`, as text.
    package func queryText(_ sql: String) throws(CourierError) -> String? {
        try withStatement(sql) { statement throws(CourierError) in
            guard try step(statement) else { return nil }
            let value = column(statement, 0)
            return value.text ?? value.integer.map(String.init)
        }
    }

    /// Runs `body` with a cached prepared statement for `sql`, reset afterwards.
    package func withStatement<Result>(_ sql: String, _ body: (OpaquePointer) throws(CourierError) -> Result) throws(CourierError) -> Result {
        guard let handle else { throw closedError }
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var prepared: OpaquePointer?
            guard sqlite3_prepare_v2(handle, sql, -1, &prepared, nil) == SQLITE_OK, let prepared else {
                throw CourierError(.storageFailure, "\(path): \(errorMessage)")
            }
            statements[sql] = prepared
            statement = prepared
        }
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        return try body(statement)
    }

    /// Advances `statement`; true when a row is available.
    package func step(_ statement: OpaquePointer) throws(CourierError) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case SQLITE_FULL: throw CourierError(.storageFailure, "\(path): the disk is full", isRetriable: true)
        default: throw CourierError(.storageFailure, "\(path): \(errorMessage)")
        }
    }

    package func bind(_ statement: OpaquePointer, _ index: Int32, _ value: SQLiteValue) {
        switch value {
        case .null: sqlite3_bind_null(statement, index)
        case .integer(let number): sqlite3_bind_int64(statement, index, number)
        case .text(let text): sqlite3_bind_text(statement, index, text, -1, transient)
        case .blob(let bytes):
            bytes.withUnsafeBytes { buffer in
                _ = sqlite3_bind_blob(statement, index, buffer.baseAddress, Int32(buffer.count), transient)
            }
        }
    }

    package func column(_ statement: OpaquePointer, _ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_TEXT:
            return .text(sqlite3_column_text(statement, index).map { String(cString: $0) } ?? "")
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let base = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: base, count: count)))
        default: return .null
        }
    }

    /// Runs `body` inside one transaction: committed if it returns, rolled back if it throws.
    package func transaction<Result>(_ body: () throws(CourierError) -> Result) throws(CourierError) -> Result {
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

    private var errorMessage: String { handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed" }
    private var closedError: CourierError { CourierError.closed("\(path) is closed") }

    /// SQLITE_TRANSIENT: SQLite copies bound values before the call returns.
    private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

/// A value read from or bound to a statement.
package enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    package var text: String? { if case .text(let value) = self { value } else { nil } }
    package var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
    package var blob: [UInt8]? {
        switch self {
        case .blob(let value): value
        case .null: []
        default: nil
        }
    }
}
