import Synchronization

/// Counts free handler slots; ``acquire()`` waits for one, in arrival order.
final class ConcurrencyLimiter: Sendable {
    private let state: Mutex<(available: Int, waiters: [CheckedContinuation<Void, Never>])>

    init(slots: Int) { state = Mutex((max(1, slots), [])) }

    /// Takes a free slot without suspending, if there is one.
    func tryAcquire() -> Bool {
        state.withLock { state in
            guard state.available > 0 else { return false }
            state.available -= 1
            return true
        }
    }

    func acquire() async {
        if tryAcquire() { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// Per ordering key, at most one message in the handler; the others wait in arrival order.
final class KeyedLanes: Sendable {
    private let lanes = Mutex<[String: [Delivery]]>([:])

    /// Returns true when `key` is free (the caller now owns its lane); otherwise queues `delivery`.
    func enter(_ key: String, with delivery: Delivery) -> Bool {
        lanes.withLock { lanes in
            if lanes[key] != nil {
                lanes[key]?.append(delivery)
                return false
            }
            lanes[key] = []
            return true
        }
    }

    /// The next queued delivery of `key`, or nil after freeing the lane.
    func next(_ key: String) -> Delivery? {
        lanes.withLock { lanes in
            guard var queue = lanes[key], !queue.isEmpty else {
                lanes[key] = nil
                return nil
            }
            let first = queue.removeFirst()
            lanes[key] = queue
            return first
        }
    }
}
