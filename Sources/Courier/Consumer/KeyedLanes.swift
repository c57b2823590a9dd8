import Synchronization

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
