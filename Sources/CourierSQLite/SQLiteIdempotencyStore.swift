import Courier
import Foundation
import Synchronization

/// A durable ``IdempotencyStore`` on SQLite: remembers processed idempotency keys across restarts, for a
/// time to live, and prunes expired keys by itself.
///
/// - Claims are atomic: of any number of concurrent claims of one key, exactly one is
///   ``IdempotencyClaim/claimed``. Calls made at the same time are applied in order in one transaction
///   (group commit), on the store's own thread.
/// - A claim is a lease: when its holder neither completes nor releases it in time (it crashed), the
///   key can be claimed again. A completed key answers ``IdempotencyClaim/completed`` until its time to
///   live ends.
/// - ``complete(_:)`` returns once the key is synced to disk, so it survives a crash or a power cut.
///   Claims and releases survive a crash of the process; a power cut may undo the last ones, which at
///   worst makes a key claimable again (its holder died with the power).
/// - Expiries are wall-clock milliseconds (``CourierClock/wallClockNow()``), so they keep their meaning
///   across a restart; a wall clock set back lengthens them by as much.
/// - Expired rows are deleted in batches of ``Pruning/batchSize`` every ``Pruning/everyClaims`` claims
///   and when the store opens; other calls run between batches.
///
/// The store may share its file with a ``SQLiteSpool`` (their tables are separate, each has its own
/// connection and thread, and SQLite's locking orders their writes), or use a file of its own.
public final class SQLiteIdempotencyStore: IdempotencyStore {
    /// When and how much the store prunes.
    public struct Pruning: Sendable, Hashable {
        /// Prune after this many claims.
        public var everyClaims: Int
        /// Rows deleted per transaction; calls waiting behind a prune wait for at most one batch.
        public var batchSize: Int

        /// - Parameters:
        ///   - everyClaims: prune after this many claims (at least 1).
        ///   - batchSize: rows deleted per transaction (at least 1).
        public init(everyClaims: Int = 1_000, batchSize: Int = 1_000) {
            self.everyClaims = max(1, everyClaims)
            self.batchSize = max(1, batchSize)
        }
    }

    /// The database file.
    public let path: String
    /// How long a completed key is remembered.
    public let timeToLive: Duration
    /// When and how much the store prunes.
    public let pruning: Pruning
    private let thread: SQLiteThread
    private let table: IdempotencyTable
    private let clock: any CourierClock
    private let pending = Mutex<(operations: [PendingOperation], flushQueued: Bool)>(([], false))

    private init(path: String, timeToLive: Duration, pruning: Pruning, thread: SQLiteThread, table: IdempotencyTable, clock: any CourierClock) {
        self.path = path
        self.timeToLive = timeToLive
        self.pruning = pruning
        self.thread = thread
        self.table = table
        self.clock = clock
    }

    /// Opens (or creates) the store at `path` and starts pruning what expired while it was closed.
    ///
    /// - Parameters:
    ///   - timeToLive: how long a completed key is remembered (one day by default).
    ///   - clock: the clock whose wall time stamps expiries; a ``VirtualClock`` in tests.
    ///   - pruning: when and how much to prune.
    /// - Throws: a ``CourierError`` with code `storage-failure` that names the path for an unwritable
    ///   location or a corrupt file (the file is left as it is).
    public static func open(
        path: String,
        timeToLive: Duration = .seconds(24 * 3600),
        clock: any CourierClock = SystemClock(),
        pruning: Pruning = Pruning()
    ) async throws -> SQLiteIdempotencyStore {
        let thread = SQLiteThread(name: "courier-idempotency")
        let ttl = max(timeToLive, .zero)
        do {
            let table = try await thread.perform {
                let database = try SQLiteDatabase(path: path)
                return try IdempotencyTable(database: database, timeToLiveMilliseconds: milliseconds(ttl))
            }
            let store = SQLiteIdempotencyStore(path: path, timeToLive: ttl, pruning: pruning, thread: thread, table: table, clock: clock)
            store.schedulePrune()
            return store
        } catch {
            thread.stop()
            throw error
        }
    }

    /// Claims `key` for `lease`, atomically: a new key, a lapsed lease or a completed key past its time to
    /// live is ``IdempotencyClaim/claimed``; a live claim answers ``IdempotencyClaim/inProgress`` and a
    /// remembered key ``IdempotencyClaim/completed``.
    public func claim(_ key: String, lease: Duration, holder: IdempotencyHolder) async throws -> IdempotencyClaim {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(.claim(key: key, leaseMilliseconds: milliseconds(max(lease, .zero)), holder: holder), .claim(continuation))
        }
    }

    /// Records `key` as completed for ``timeToLive``; returns once that is synced to disk.
    public func complete(_ key: String) async throws {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(.complete(key: key), .done(continuation))
        }
    }

    /// Forgets `key` if `holder` holds it in progress, so a retry can claim it; a claim another holder
    /// took after `holder`'s lease lapsed stays, and a completed key stays completed.
    public func release(_ key: String, holder: IdempotencyHolder) async throws {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(.release(key: key, holder: holder), .done(continuation))
        }
    }

    /// Deletes every row that has expired by now, batch by batch, and returns how many it deleted.
    @discardableResult
    public func pruneExpired() async throws -> Int {
        var total = 0
        while true {
            let deleted = try await perform { [table, clock, pruning] in
                try table.prune(now: wallMilliseconds(clock), limit: pruning.batchSize)
            }
            total += deleted
            if deleted < pruning.batchSize { return total }
        }
    }

    /// Keys stored right now: in progress, completed, and expired ones not yet pruned.
    public func count() async throws -> Int {
        try await perform { [table] in try table.count() }
    }

    /// Closes the file after the calls already queued; later calls throw ``CourierError/Code/closed``.
    public func close() async {
        try? await thread.perform { [table] in table.close() }
        thread.stop()
        failPending(with: closedError)
    }

    // MARK: Batching

    private enum Continuation {
        case claim(CheckedContinuation<IdempotencyClaim, any Error>)
        case done(CheckedContinuation<Void, any Error>)

        func resume(with answer: IdempotencyClaim?, path: String) {
            switch self {
            case .claim(let continuation):
                if let answer {
                    continuation.resume(returning: answer)
                } else {
                    continuation.resume(throwing: CourierError(.storageFailure, "\(path): a claim got no answer"))
                }
            case .done(let continuation): continuation.resume()
            }
        }

        func resume(throwing error: any Error) {
            switch self {
            case .claim(let continuation): continuation.resume(throwing: error)
            case .done(let continuation): continuation.resume(throwing: error)
            }
        }
    }

    private struct PendingOperation {
        let request: IdempotencyRequest
        let continuation: Continuation
    }

    private func enqueue(_ request: IdempotencyRequest, _ continuation: Continuation) {
        let scheduleFlush = pending.withLock { pending -> Bool in
            pending.operations.append(PendingOperation(request: request, continuation: continuation))
            defer { pending.flushQueued = true }
            return !pending.flushQueued
        }
        if scheduleFlush, !thread.submit({ self.flush() }) {
            failPending(with: closedError)
        }
    }

    /// Applies every call queued so far in one transaction, then prunes if enough claims went by. Runs on
    /// the store's thread.
    private func flush() {
        let batch = pending.withLock { pending -> [PendingOperation] in
            defer { pending = ([], false) }
            return pending.operations
        }
        guard !batch.isEmpty else { return }
        do {
            let answers = try table.apply(batch.map(\.request), now: wallMilliseconds(clock))
            for (operation, answer) in zip(batch, answers) { operation.continuation.resume(with: answer, path: path) }
        } catch {
            batch.forEach { $0.continuation.resume(throwing: mapClosed(error)) }
        }
        if table.claimsSincePrune >= pruning.everyClaims { pruneBatch() }
    }

    /// Prunes one batch on the store's thread and queues the next one behind the calls waiting by then.
    /// A failure is left for the next trigger: expired rows already count as absent.
    private func pruneBatch() {
        guard let deleted = try? table.prune(now: wallMilliseconds(clock), limit: pruning.batchSize) else { return }
        if deleted == pruning.batchSize { schedulePrune() }
    }

    private func schedulePrune() {
        thread.submit { self.pruneBatch() }
    }

    private func perform<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        do {
            return try await thread.perform(body)
        } catch {
            throw mapClosed(error)
        }
    }

    private func failPending(with error: CourierError) {
        let stranded = pending.withLock { pending -> [PendingOperation] in
            defer { pending = ([], false) }
            return pending.operations
        }
        stranded.forEach { $0.continuation.resume(throwing: error) }
    }

    /// The store's own closed error for a call that reached a closed thread or connection.
    private func mapClosed(_ error: any Error) -> any Error {
        if case SQLiteError.closed? = error as? SQLiteError { return closedError }
        if let error = error as? CourierError, error.code == .closed { return closedError }
        return error
    }

    private var closedError: CourierError { CourierError.closed("the idempotency store \(path) is closed") }
}

/// Whole milliseconds in `duration`, rounded up and saturating at `Int64.max`.
private func milliseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
    if overflow { return seconds < 0 ? .min : .max }
    let perMillisecond: Int64 = 1_000_000_000_000_000
    let fraction = attoseconds / perMillisecond + (attoseconds % perMillisecond > 0 ? 1 : 0)
    let (sum, sumOverflow) = whole.addingReportingOverflow(fraction)
    return sumOverflow ? .max : sum
}

/// The clock's wall time in milliseconds since 1970.
private func wallMilliseconds(_ clock: any CourierClock) -> Int64 {
    Int64((clock.wallClockNow().timeIntervalSince1970 * 1_000).rounded(.down))
}
