import Synchronization

/// Waits for `operation` for at most `timeout` on `clock`.
///
/// When the time is up the caller gets a ``CourierError/Code/timedOut`` error (``CourierError/mayDuplicate``
/// set) and `operation` is left to finish on its own: a publish handed to a transport cannot be taken back,
/// and a transport waiting on a hung broker may not notice cancellation, so waiting for it would defeat the
/// timeout. If it is confirmed later, the message exists twice; the idempotency key lets consumers drop it.
/// Cancelling the caller cancels `operation`; the caller still returns by the timeout at the latest.
func withAttemptTimeout<Result: Sendable>(
    _ timeout: Duration,
    clock: any CourierClock,
    transport: String,
    _ operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    let race = AttemptRace<Result>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            race.install(continuation)
            let work = Task {
                do { race.finish(.success(try await operation()), byTimer: false) } catch { race.finish(.failure(error), byTimer: false) }
            }
            let timer = Task {
                do { try await clock.sleep(for: timeout) } catch { return }
                race.finish(.failure(CourierError(
                    .timedOut,
                    "no answer within \(timeout.milliseconds) ms; the attempt was abandoned and may still be confirmed "
                        + "(consumers drop the duplicate by its idempotency key). If the broker is only slow, raise the attempt timeout "
                        + "(ProducerConfiguration.attemptTimeout, retry.attemptTimeoutMs)",
                    mayDuplicate: true,
                    transport: transport
                )), byTimer: true)
            }
            race.attach(work: work, timer: timer)
        }
    } onCancel: {
        race.cancelWork()
    }
}

/// Whichever of the operation and the timer finishes first resumes the caller, once.
private final class AttemptRace<Result: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result, any Error>?
        var isFinished = false
        var isCancelled = false
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    func install(_ continuation: CheckedContinuation<Result, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    /// Stores the two tasks; stops the timer at once if the operation already won, and cancels the
    /// operation if the caller was cancelled before it started.
    func attach(work: Task<Void, Never>, timer: Task<Void, Never>) {
        let (stopTimer, cancelWork) = state.withLock { state -> (Bool, Bool) in
            state.work = work
            state.timer = timer
            return (state.isFinished, state.isCancelled)
        }
        if stopTimer { timer.cancel() }
        if cancelWork { work.cancel() }
    }

    func finish(_ result: Swift.Result<Result, any Error>, byTimer: Bool) {
        let (continuation, timer) = state.withLock { state -> (CheckedContinuation<Result, any Error>?, Task<Void, Never>?) in
            guard !state.isFinished else { return (nil, nil) }
            state.isFinished = true
            defer { state.continuation = nil }
            return (state.continuation, state.timer)
        }
        guard let continuation else { return }
        // A sleeping timer would keep a virtual clock's sleeper list busy until the deadline.
        if !byTimer { timer?.cancel() }
        continuation.resume(with: result)
    }

    func cancelWork() {
        let work = state.withLock { state -> Task<Void, Never>? in
            state.isCancelled = true
            return state.work
        }
        work?.cancel()
    }
}

extension Duration {
    /// Whole milliseconds, for messages.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
