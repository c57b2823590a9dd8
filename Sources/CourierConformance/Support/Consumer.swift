import Courier
import Synchronization

/// What a scenario's subscriber does with one delivery.
enum Decision: Sendable {
    /// Process it and ack.
    case ack
    /// Nack it with requeue.
    case requeue
    /// Keep it unsettled; the scenario settles (or abandons) it later.
    case hold
}

/// A subscriber: iterates one subscription in a task of its own, books every arrival in a ``Ledger``
/// and settles as its handler decides.
///
/// A subscription that ends although nobody closed it is a failure (the classic "consumer silently
/// stops" bug). One that throws is a failure too, unless the consumer was given a way to subscribe
/// again, as in the reconnect scenario.
final class Consumer: Sendable {
    typealias Handler = @Sendable (Delivery, Ledger) -> Decision
    typealias Resubscribe = @Sendable () async throws -> DeliveryStream

    private struct State {
        var stream: DeliveryStream?
        var task: Task<Void, Never>?
        var stopping = false
        var held: [Delivery] = []
        var resubscriptions = 0
    }

    /// Names the subscriber in notes and failures.
    let member: String
    private let ledger: Ledger
    private let run: ScenarioRun
    private let handler: Handler
    private let resubscribe: Resubscribe?
    private let state = Mutex(State())
    private let ended = Latch()

    /// - Parameter closed: the subscription was closed on purpose before iteration starts, so its end
    ///   is expected (anything it still yields is booked all the same).
    init(member: String, ledger: Ledger, run: ScenarioRun, resubscribe: Resubscribe?, closed: Bool, handler: @escaping Handler) {
        self.member = member
        self.ledger = ledger
        self.run = run
        self.resubscribe = resubscribe
        self.handler = handler
        state.withLock { $0.stopping = closed }
    }

    /// Starts iterating `stream`.
    func start(_ stream: DeliveryStream) {
        let task = Task { await self.consume(stream) }
        state.withLock { state in
            state.stream = stream
            state.task = task
        }
    }

    /// Deliveries the handler chose to hold, in arrival order.
    var held: [Delivery] { state.withLock { $0.held } }

    /// How often the subscription was lost and opened again.
    var resubscriptions: Int { state.withLock { $0.resubscriptions } }

    /// Settles every held delivery with `action` and books the outcome.
    func settleHeld(_ action: SettleAction) async {
        let held = state.withLock { state -> [Delivery] in
            defer { state.held = [] }
            return state.held
        }
        for delivery in held { await settle(delivery, action) }
    }

    /// Closes the subscription and waits (at most the inactivity timeout) for the iteration to end.
    func stop() async {
        let (stream, task) = state.withLock { state -> (DeliveryStream?, Task<Void, Never>?) in
            state.stopping = true
            return (state.stream, state.task)
        }
        if let stream {
            let closed = await finishes(within: run.options.inactivityTimeout) { await stream.close() }
            if !closed { run.fail("\(member): closing the subscription did not return within \(run.options.inactivityTimeout)") }
        }
        task?.cancel()
        await waitUntilEnded()
    }

    /// Cancels the iterating task without closing the stream first (the stream must end by itself).
    func cancelTask() {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.stopping = true
            return state.task
        }
        task?.cancel()
    }

    /// Waits at most the inactivity timeout for the iteration to end; returns whether it did.
    @discardableResult
    func waitUntilEnded() async -> Bool {
        await finishes(within: run.options.inactivityTimeout) { await self.ended.wait() }
    }

    private var isStopping: Bool { state.withLock { $0.stopping } }

    private func consume(_ first: DeliveryStream) async {
        defer { ended.open() }
        var stream = first
        while true {
            do {
                for try await delivery in stream {
                    ledger.arrived(delivery, member: member)
                    switch handler(delivery, ledger) {
                    case .ack: await settle(delivery, .ack)
                    case .requeue: await settle(delivery, .requeue)
                    case .hold: state.withLock { $0.held.append(delivery) }
                    }
                }
                if !isStopping && !Task.isCancelled {
                    run.fail("\(member): the subscription on \(ledger.name) ended although nobody closed it (a subscription must keep delivering, or throw subscription-lost)")
                }
                return
            } catch {
                if isStopping || Task.isCancelled { return }
                guard let resubscribe else {
                    run.fail("\(member): the subscription on \(ledger.name) failed: \(error)")
                    return
                }
                guard let next = await subscribeAgain(after: error, using: resubscribe) else { return }
                stream = next
            }
        }
    }

    /// Subscribes again with backoff until it works, the consumer stops, or the retry window passes.
    private func subscribeAgain(after error: any Error, using resubscribe: Resubscribe) async -> DeliveryStream? {
        let deadline = ContinuousClock.now + run.options.publishRetryWindow
        var delay = Duration.milliseconds(20)
        var lastError = error
        while !isStopping, !Task.isCancelled, ContinuousClock.now < deadline {
            do {
                let stream = try await resubscribe()
                let count = state.withLock { state -> Int in
                    state.stream = stream
                    state.resubscriptions += 1
                    return state.resubscriptions
                }
                if count == 1 { run.note("\(member): subscription lost (\(error)); subscribed again") }
                return stream
            } catch {
                lastError = error
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .milliseconds(500))
            }
        }
        if !isStopping, !Task.isCancelled {
            run.fail("\(member): could not subscribe again within \(run.options.publishRetryWindow): \(lastError)")
        }
        return nil
    }

    private func settle(_ delivery: Delivery, _ action: SettleAction) async {
        let id = ledger.key(for: delivery.envelope)
        do {
            try await delivery.settle(action)
        } catch {
            ledger.settleFailed("\(action) of \(id): \(error)")
        }
        switch action {
        case .ack: ledger.processed(id, member: member)
        case .requeue, .reject, .redeliver: ledger.nacked(id)
        }
    }
}
