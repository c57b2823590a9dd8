import Synchronization

/// A version counter tasks can wait on: ``bump()`` after changing shared state wakes everyone waiting
/// for a change. Read ``version`` *before* reading the state you check, then wait for a change after that
/// version, and no change can slip between the check and the wait.
public final class ChangeSignal: Sendable {
    private struct State {
        var version = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Changes so far.
    public var version: Int { state.withLock { $0.version } }

    /// Records a change and wakes every waiter.
    public func bump() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.version += 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once the version moved past `version`, or at once when the task is cancelled.
    public func waitForChange(after version: Int) async {
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

    /// True when the version moved past `version`, false when `timeout` of real time passed first (an
    /// inactivity timeout for tests and tools, so a slow machine does not flake but a stall ends).
    public func waitForChange(after version: Int, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.waitForChange(after: version)
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
