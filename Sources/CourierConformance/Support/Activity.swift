import Courier
import Synchronization

/// The pulse of one scenario run. Every confirm, delivery and step re-arms the inactivity timer, and
/// tasks waiting for a condition wake on each change.
final class Activity: Sendable {
    private struct State {
        var lastActivity = ContinuousClock.now
        var step = "starting"
        /// While set, the run may be silent until then (a broker restart is in progress).
        var allowedUntil: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let changes = ChangeSignal()

    /// Something happened: re-arm the inactivity timer and wake every waiter.
    func bump() {
        state.withLock { $0.lastActivity = .now }
        changes.bump()
    }

    /// Names what the scenario does now (for the stall message), and counts as activity.
    func begin(_ step: String) {
        state.withLock { $0.step = step }
        bump()
    }

    /// What the scenario was doing last.
    var step: String { state.withLock { $0.step } }

    var version: Int { changes.version }

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
    func waitForChange(after version: Int) async { await changes.waitForChange(after: version) }
}
