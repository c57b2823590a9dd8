import Foundation

/// One dedicated thread that makes every SQLite call for one database, so blocking file I/O and fsync
/// never run on Swift's cooperative pool. Jobs run in submission order.
final class SQLiteThread: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var stopping = false

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the thread and returns its result.
    func perform<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = submit { continuation.resume(with: Swift.Result { try body() }) }
            if !accepted {
                continuation.resume(throwing: SQLiteError.closed)
            }
        }
    }

    /// Queues `job`; returns false once the thread is stopping.
    @discardableResult
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Lets queued jobs finish, then ends the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs = []
            condition.unlock()
            batch.forEach { $0() }
        }
    }
}
