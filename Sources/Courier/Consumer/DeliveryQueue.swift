import Synchronization

/// Deliveries read from the subscriptions and not yet taken by a worker. Readers push whole batches; a
/// worker takes the next delivery without suspending while any is queued, so a busy consumer pays one
/// lock per message and no task switch. Readers wait for room (see ``waitForRoom()``) so that deliveries
/// gather in their subscription meanwhile and come over as one batch.
final class DeliveryQueue: Sendable {
    private struct State {
        var items: [Delivery] = []
        var head = 0
        var idleWorkers: [CheckedContinuation<Delivery?, Never>] = []
        var readersWaitingForRoom: [CheckedContinuation<Void, Never>] = []
        var isClosed = false

        var queued: Int { items.count - head }
    }

    private let state = Mutex(State())
    /// At or below this many queued deliveries a reader takes the next batch.
    private let lowWatermark: Int

    /// - Parameter lowWatermark: how few deliveries may be queued before readers take more; the number of
    ///   workers keeps each of them busy while a reader fetches the next batch.
    init(lowWatermark: Int) { self.lowWatermark = max(0, lowWatermark) }

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

    /// The next delivery if one is queued (`.some(nil)` once the queue is closed), without suspending;
    /// `nil` when the worker has to wait in ``pop()``. A synchronous call: workers try it first because an
    /// async call costs a frame and an executor check even when it does not suspend.
    @inline(never)  // in an async caller its locals would each be a task allocation
    func popReady() -> Delivery?? {
        let (ready, readers) = state.withLock { state in (Self.takeReady(&state), takeReadersIfLow(&state)) }
        readers.forEach { $0.resume() }
        return ready
    }

    /// The next delivery, waiting only when none is queued; `nil` once the queue is closed.
    func pop() async -> Delivery? {
        // Taken without a continuation when one is ready: even a continuation resumed at once suspends the
        // task and schedules it again, a task switch per message.
        if let ready = popReady() { return ready }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Delivery?, Never>) in
            let ready = state.withLock { state -> Delivery?? in
                if let ready = Self.takeReady(&state) { return ready }
                state.idleWorkers.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Returns once few enough deliveries are queued (or the queue is closed). A reader waits here after a
    /// push: while the workers have plenty queued, deliveries gather in the subscription and come over as
    /// one batch with one wake-up, where a reader always waiting on its subscription is woken per delivery.
    func waitForRoom() async {
        if state.withLock({ $0.isClosed || $0.queued <= lowWatermark }) { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let hasRoom = state.withLock { state -> Bool in
                if state.isClosed || state.queued <= lowWatermark { return true }
                state.readersWaitingForRoom.append(continuation)
                return false
            }
            if hasRoom { continuation.resume() }
        }
    }

    /// Readers to wake once a worker took the queue down to the low watermark.
    private func takeReadersIfLow(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        guard !state.readersWaitingForRoom.isEmpty, state.queued <= lowWatermark else { return [] }
        defer { state.readersWaitingForRoom = [] }
        return state.readersWaitingForRoom
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

    /// Wakes idle workers with `nil` and waiting readers, and drops what is queued (unstarted, so it goes
    /// back to the broker).
    func close() {
        let (idle, readers) = state.withLock { state in
            state.isClosed = true
            state.items = []
            state.head = 0
            defer {
                state.idleWorkers = []
                state.readersWaitingForRoom = []
            }
            return (state.idleWorkers, state.readersWaitingForRoom)
        }
        idle.forEach { $0.resume(returning: nil) }
        readers.forEach { $0.resume() }
    }
}
