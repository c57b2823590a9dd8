import Synchronization

/// Bounds how many mock clusters this test target runs at once.
///
/// Swift Testing starts every test together. Each mock cluster with its clients holds about forty file
/// descriptors (librdkafka gives every broker thread a wake-up pipe) and a dozen threads; unbounded, the
/// target opened over 1,100 descriptors at once, and under the common 1,024 soft limit librdkafka's mock
/// aborts the whole test process when it cannot re-create a broker's listener.
final class MockClusterPermits: Sendable {
    /// Shared by every Kafka test of this target.
    static let shared = MockClusterPermits(limit: 4)

    private struct State {
        var available: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(limit: Int) {
        state = Mutex(State(available: limit))
    }

    /// Waits for a free permit; it returns to the pool when the returned value is released.
    func acquire() async -> MockClusterPermit {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                guard state.available > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if granted { continuation.resume() }
        }
        return MockClusterPermit(pool: self)
    }

    fileprivate func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.available += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}

/// One permit; released when the last reference goes, so a test that throws before closing its
/// cluster still gives it back.
final class MockClusterPermit: Sendable {
    private let pool: MockClusterPermits

    fileprivate init(pool: MockClusterPermits) { self.pool = pool }

    deinit { pool.release() }
}
