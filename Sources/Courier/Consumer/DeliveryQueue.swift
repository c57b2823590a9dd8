import Synchronization

/// Deliveries read from the subscriptions and not yet taken by a worker. Readers push whole batches; a
/// worker takes the next delivery without suspending while any is queued, so a busy consumer pays one
/// lock per message and no task switch.
final class DeliveryQueue: Sendable {
    private struct State {
        var items: [Delivery] = []
        var head = 0
        var idleWorkers: [CheckedContinuation<Delivery?, Never>] = []
        var isClosed = false
    }

    private let state = Mutex(State())

    /// Queues `batch`, handing deliveries straight to idle workers first. After ``close()`` the batch is
    /// dropped unstarted: its deliveries are unsettled and go back to the broker when their stream closes.
    func push(_ batch: [Delivery]) {
        var handoffs: [(CheckedContinuation<Delivery?, Never>, Delivery)] = []
        state.withLock { state in
            guard !state.isClosed else { return }
            var index = batch.startIndex
            while index < batch.endIndex, let worker = state.idleWorkers.popLast() {
                handoffs.append((worker, batch[index]))
                index += 1
            }
            if index < batch.endIndex { state.items.append(contentsOf: batch[index...]) }
        }
        for (worker, delivery) in handoffs { worker.resume(returning: delivery) }
    }

    /// The next delivery, waiting only when none is queued; `nil` once the queue is closed.
    func pop() async -> Delivery? {
        // Taken without a continuation when one is ready: even a continuation resumed at once suspends the
        // task and schedules it again, a task switch per message.
        if let ready = state.withLock({ Self.takeReady(&$0) }) { return ready }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Delivery?, Never>) in
            let ready = state.withLock { state -> Delivery?? in
                if let ready = Self.takeReady(&state) { return ready }
                state.idleWorkers.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// `.some(delivery)` when one is queued, `.some(nil)` when closed, `nil` when a worker has to wait.
    private static func takeReady(_ state: inout State) -> Delivery?? {
        if state.isClosed { return .some(nil) }
        guard state.head < state.items.count else { return nil }
        let delivery = state.items[state.head]
        state.head += 1
        if state.head == state.items.count {
            state.items.removeAll(keepingCapacity: true)
            state.head = 0
        }
        return .some(delivery)
    }

    /// Wakes idle workers with `nil` and drops what is queued (unstarted, so it goes back to the broker).
    func close() {
        let idle = state.withLock { state -> [CheckedContinuation<Delivery?, Never>] in
            state.isClosed = true
            state.items = []
            state.head = 0
            defer { state.idleWorkers = [] }
            return state.idleWorkers
        }
        idle.forEach { $0.resume(returning: nil) }
    }
}
