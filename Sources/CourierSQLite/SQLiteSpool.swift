import Courier
import Foundation
import Synchronization

/// The durable spool on SQLite: a WAL-mode file synced before every append returns, appends from
/// concurrent publishers committed together in one transaction, FIFO reads, and limits in messages and
/// bytes that answer with a backpressure error, never a silent drop.
public final class SQLiteSpool: Spool {
    /// How much the spool may hold.
    public struct Limits: Sendable, Hashable {
        public var maxMessages: Int
        /// Payload bytes.
        public var maxBytes: Int

        public init(maxMessages: Int = 100_000, maxBytes: Int = 256 << 20) {
            self.maxMessages = maxMessages
            self.maxBytes = maxBytes
        }
    }

    public let path: String
    private let thread: SQLiteThread
    private let table: SpoolTable
    private let clock: any CourierClock
    private let pending = Mutex<(appends: [PendingAppend], flushQueued: Bool)>(([], false))

    private struct PendingAppend {
        let envelope: Envelope
        let continuation: CheckedContinuation<Int64, any Error>
    }

    private init(path: String, thread: SQLiteThread, table: SpoolTable, clock: any CourierClock) {
        self.path = path
        self.thread = thread
        self.table = table
        self.clock = clock
    }

    /// Opens (or creates) the spool at `path`. Throws a clear ``CourierError`` (code `storage-failure`) for
    /// an unwritable location or a corrupt file.
    public static func open(path: String, limits: Limits = Limits(), clock: any CourierClock = SystemClock()) async throws -> SQLiteSpool {
        let thread = SQLiteThread(name: "courier-spool")
        do {
            let table = try await thread.perform {
                let database = try SQLiteDatabase(path: path)
                return try SpoolTable(database: database, limits: limits)
            }
            return SQLiteSpool(path: path, thread: thread, table: table, clock: clock)
        } catch {
            thread.stop()
            throw error
        }
    }

    public func append(_ envelope: Envelope) async throws -> Int64 {
        try await withCheckedThrowingContinuation { continuation in
            let scheduleFlush = pending.withLock { pending -> Bool in
                pending.appends.append(PendingAppend(envelope: envelope, continuation: continuation))
                defer { pending.flushQueued = true }
                return !pending.flushQueued
            }
            if scheduleFlush, !thread.submit({ self.flush() }) {
                failPending(with: closedError)
            }
        }
    }

    public func oldest(limit: Int) async throws -> [SpooledMessage] {
        try await perform { [table] in try table.oldest(limit: max(1, limit)) }
    }

    public func remove(sequence: Int64) async throws {
        try await perform { [table] in try table.remove(sequences: [sequence]) }
    }

    /// Removes every one of `sequences` in one transaction: one synced commit for a relay batch.
    public func remove(sequences: [Int64]) async throws {
        guard !sequences.isEmpty else { return }
        try await perform { [table] in try table.remove(sequences: sequences) }
    }

    public func depth() async throws -> SpoolDepth {
        try await perform { [table] in table.depth }
    }

    public func close() async {
        // Close the connection on its thread after the work queued before it, so the file is released
        // (and its write-ahead log checkpointed) by the time close() returns.
        try? await thread.perform { [table] in table.close() }
        thread.stop()
        failPending(with: closedError)
    }

    /// Commits every append queued so far in one transaction. Runs on the spool's thread.
    private func flush() {
        let batch = pending.withLock { pending -> [PendingAppend] in
            defer { pending = ([], false) }
            return pending.appends
        }
        guard !batch.isEmpty else { return }
        do {
            let results = try table.append(batch.map(\.envelope), spooledAt: clock.wallClockNow())
            for (append, result) in zip(batch, results) { append.continuation.resume(with: result.mapError { $0 }) }
        } catch {
            batch.forEach { $0.continuation.resume(throwing: error) }
        }
    }

    private func perform<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        do {
            return try await thread.perform(body)
        } catch SQLiteError.closed {
            throw closedError
        }
    }

    private func failPending(with error: CourierError) {
        let stranded = pending.withLock { pending -> [PendingAppend] in
            defer { pending = ([], false) }
            return pending.appends
        }
        stranded.forEach { $0.continuation.resume(throwing: error) }
    }

    private var closedError: CourierError { CourierError.closed("the spool \(path) is closed") }
}
