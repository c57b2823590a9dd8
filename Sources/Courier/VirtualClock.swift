import Foundation
import Synchronization

/// A clock that moves only when a test says so.
///
/// Code under test sleeps on it as on any clock; the test calls ``advance(by:)`` to move time forward,
/// which wakes every sleeper whose deadline has passed, earliest first. ``waitForSleepers(_:)`` lets a
/// test wait until the code under test has actually gone to sleep before advancing, so nothing races.
public final class VirtualClock: CourierClock {
    private struct Sleeper {
        let id: UInt64
        let deadline: ClockInstant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = ClockInstant(offset: .zero)
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
        var sleeperWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    private let wallClockOrigin: Date

    /// - Parameter wallClockOrigin: the wall-clock time that virtual time zero stands for.
    public init(wallClockOrigin: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.wallClockOrigin = wallClockOrigin
    }

    public func now() -> ClockInstant { state.withLock { $0.now } }

    public func wallClockNow() -> Date {
        let offset = now().offset.components
        return wallClockOrigin.addingTimeInterval(Double(offset.seconds) + Double(offset.attoseconds) / 1e18)
    }

    /// How many tasks are asleep on this clock right now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline anyone sleeps until, if anyone sleeps.
    public var nextDeadline: ClockInstant? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    public func sleep(until deadline: ClockInstant) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> SleepRegistration in
                    if Task.isCancelled { return .cancelled }
                    if deadline <= state.now { return .due }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return .registered(Self.takeSatisfiedWaiters(&state))
                }
                switch outcome {
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .due: continuation.resume()
                case .registered(let waiters): waiters.forEach { $0.resume() }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward by `duration` and wakes every sleeper whose deadline is now due, earliest first.
    public func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now + duration
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        due.forEach { $0.continuation.resume() }
    }

    /// Moves time to the earliest sleeper's deadline and wakes it; returns false when nobody sleeps.
    @discardableResult
    public func advanceToNextDeadline() -> Bool {
        guard let deadline = nextDeadline else { return false }
        advance(by: deadline - now())
        return true
    }

    /// Returns once at least `count` tasks are asleep on this clock.
    public func waitForSleepers(_ count: Int = 1) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.sleepers.count >= count { return true }
                state.sleeperWaiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private enum SleepRegistration {
        case cancelled, due
        case registered([CheckedContinuation<Void, Never>])
    }

    private static func takeSatisfiedWaiters(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        let count = state.sleepers.count
        let ready = state.sleeperWaiters.filter { $0.count <= count }.map(\.continuation)
        state.sleeperWaiters.removeAll { $0.count <= count }
        return ready
    }
}
