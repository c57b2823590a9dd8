import Synchronization

/// One stream of ``ReliabilityEvent``s for a whole application: producers, consumers, breakers and
/// transport connections report here, and any number of subscribers read it as an AsyncSequence.
///
/// ```swift
/// let events = ReliabilityEvents()
/// events.attach(producer)
/// for await event in events.subscribe() { logger.info("\(event)") }
/// ```
/// Each subscriber gets every event from the moment it subscribed; a subscriber that falls more than
/// `bufferSize` events behind loses the oldest ones (the pipeline never waits for a slow reader).
public final class ReliabilityEvents: Sendable {
    private struct State {
        var continuations: [UInt64: AsyncStream<ReliabilityEvent>.Continuation] = [:]
        var next: UInt64 = 0
        var finished = false
    }

    private let state = Mutex(State())
    private let counters: RecoveryCounters?
    public let bufferSize: Int

    /// - Parameter metrics: when given, recovery events are counted there too (breaker, failover and spool
    ///   metrics come from the pipeline itself).
    public init(bufferSize: Int = 1024, metrics: (any CourierMetricsFactory)? = nil) {
        self.bufferSize = max(1, bufferSize)
        counters = metrics.map(RecoveryCounters.init)
    }

    /// Events from now on, until ``finish()``.
    public func subscribe() -> AsyncStream<ReliabilityEvent> {
        let (stream, continuation) = AsyncStream<ReliabilityEvent>.makeStream(bufferingPolicy: .bufferingNewest(bufferSize))
        let id: UInt64? = state.withLock { state in
            guard !state.finished else { return nil }
            state.next += 1
            state.continuations[state.next] = continuation
            return state.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.continuations.removeValue(forKey: id) } }
        return stream
    }

    /// Reports `event` to every subscriber.
    public func publish(_ event: ReliabilityEvent) {
        counters?.count(event)
        let continuations = state.withLock { Array($0.continuations.values) }
        for continuation in continuations { continuation.yield(event) }
    }

    /// Ends every subscriber's sequence; later subscribers get an empty one.
    public func finish() {
        let continuations = state.withLock { state in
            state.finished = true
            defer { state.continuations = [:] }
            return Array(state.continuations.values)
        }
        for continuation in continuations { continuation.finish() }
    }

    /// Reports the producer's failovers, failbacks, spooling and draining, and its breakers' transitions.
    public func attach(_ producer: Producer) {
        producer.onEvent { [weak self] event in
            if let event = ReliabilityEvent(event) { self?.publish(event) }
        }
        for breaker in producer.breakers { attach(breaker) }
    }

    /// Reports the consumer's dead letters, pauses and resubscriptions, and its handler breaker's transitions.
    public func attach(_ consumer: Consumer) {
        consumer.onEvent { [weak self] event in self?.publish(ReliabilityEvent(event)) }
        if let breaker = consumer.handlerBreaker { attach(breaker) }
    }

    /// Reports the breaker's transitions.
    public func attach(_ breaker: CircuitBreaker) {
        _ = breaker.onTransition { [weak self] transition in self?.publish(.breakerTransition(transition)) }
    }
}

/// Counts connection recovery from the event stream, per transport.
private final class RecoveryCounters: Sendable {
    private let factory: any CourierMetricsFactory
    private let counters = Mutex<[String: (attempts: any CounterHandler, recoveries: any CounterHandler)]>([:])

    init(_ factory: any CourierMetricsFactory) { self.factory = factory }

    func count(_ event: ReliabilityEvent) {
        switch event {
        case .recoveryAttemptFailed(let transport, _, _): handlers(transport).attempts.increment(by: 1)
        case .recoveryFinished(let transport, _): handlers(transport).recoveries.increment(by: 1)
        default: return
        }
    }

    private func handlers(_ transport: String) -> (attempts: any CounterHandler, recoveries: any CounterHandler) {
        counters.withLock { counters in
            if let found = counters[transport] { return found }
            let labels = [(MessagingMetrics.transport, transport)]
            let made = (
                attempts: factory.makeCounter(label: MessagingMetrics.recoveryAttempts, dimensions: labels),
                recoveries: factory.makeCounter(label: MessagingMetrics.recoveries, dimensions: labels)
            )
            counters[transport] = made
            return made
        }
    }
}

extension ReliabilityEvents {
    /// Publishes what `sequence` yields, mapped by `transform` (nil skips an element), until it ends or the
    /// returned task is cancelled. Adapters use it to feed their connection events in.
    @discardableResult
    public func forward<Events: AsyncSequence & Sendable>(
        _ sequence: Events, _ transform: @escaping @Sendable (Events.Element) -> ReliabilityEvent?
    ) -> Task<Void, Never> {
        Task { [weak self] in
            do {
                for try await element in sequence {
                    if let event = transform(element) { self?.publish(event) }
                }
            } catch {
                return
            }
        }
    }
}
