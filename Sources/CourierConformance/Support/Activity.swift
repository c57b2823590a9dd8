import Synchronization

/// The pulse of one scenario run. Every confirm, delivery and step re-arms the inactivity timer, and
/// tasks waiting for a condition wake on each change.
final class Activity: Sendable {
    private struct State {
        var version = 0
        var lastActivity = ContinuousClock.now
        var step = "starting"
        /// While set, the run may be silent until then (a broker restart is in progress).
        var allowedUntil: ContinuousClock.Instant?
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// Something happened: re-arm the inactivity timer and wake every waiter.
    func bump() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.version += 1
            state.lastActivity = .now
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    /// Names what the scenario does now (for the stall message), and counts as activity.
    func begin(_ step: String) {
        state.withLock { $0.step = step }
        bump()
    }

    /// What the scenario was doing last.
    var step: String { state.withLock { $0.step } }

    var version: Int { state.withLock { $0.version } }

    /// Lets the run be silent for up to `duration` (while the broker restarts).
    func allowSilence(for duration: Duration) {
        state.withLock { $0.allowedUntil = .now + duration }
    }

    /// Ends an allowance from ``allowSilence(for:)``; counts as activity.
    func endSilence() {
        state.withLock { $0.allowedUntil = nil }
        bump()
    }

    /// Whether nothing happened for `inactivity` outside an allowance.
    func isStalled(inactivity: Duration) -> Bool {
        state.withLock { state in
            let now = ContinuousClock.now
            if let allowed = state.allowedUntil, now < allowed { return false }
            return now - state.lastActivity > inactivity
        }
    }

    /// Returns once anything happened after `version`, or at once when the task is cancelled.
    func waitForChange(after version: Int) async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.version != version || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
