import Synchronization

/// The producer pipeline: failover across transports in order of preference, each behind its own
/// circuit breaker and retry policy, with a durable spool when none can take a message.
///
/// A publish goes to the first transport whose breaker admits it; retriable failures are retried within
/// the policy and the transport's retry budget, then the next transport is tried. When the preferred
/// transport's breaker closes again, traffic fails back by itself. When every transport refuses, the
/// message is appended to the spool and the receipt says so; ``run()`` relays the spool, oldest first,
/// as soon as a transport admits traffic. While the spool holds messages, new ones queue behind them, so
/// order is kept. The envelope's id and idempotency key never change on the way.
///
/// The producer does not start or stop its transports; their owner does.
public final class Producer: Sendable {
    public let transports: [any Transport]
    /// One breaker per transport, in the same order.
    public let breakers: [CircuitBreaker]
    public let configuration: ProducerConfiguration
    private let budgets: [RetryBudget]
    private let spool: (any Spool)?
    private let clock: any CourierClock
    private let logger: any CourierLogger
    private let random: RandomSource
    private let state = Mutex(ProducerState())
    private let wakeRelay: AsyncStream<Void>.Continuation
    private let relayWakeups: AsyncStream<Void>
    private let stopped = Latch()
    /// Metric handlers and trace propagation, when an ``Observability`` was given.
    private let instruments: ProducerInstruments?
    private let tracing: (any TracingInstrument)?

    private struct ProducerState {
        var statistics = ProducerStatistics()
        var lastTransport: Int?
        /// Messages known to be in the spool; publishes queue behind them while it is above zero.
        var spoolBacklog = 0
        /// Whether the backlog was read from the spool (it may hold messages from before a crash).
        var backlogKnown = false
        var observers: [UInt64: @Sendable (ProducerEvent) -> Void] = [:]
        var nextObserver: UInt64 = 0
        var isShutDown = false
    }

    public init(
        transports: [any Transport],
        configuration: ProducerConfiguration = ProducerConfiguration(),
        spool: (any Spool)? = nil,
        clock: any CourierClock = SystemClock(),
        logger: any CourierLogger = SilentLogger(),
        random: RandomSource = RandomSource(),
        observability: Observability? = nil
    ) {
        self.transports = transports
        self.configuration = configuration
        self.spool = spool
        self.clock = clock
        self.logger = RedactingLogger(logger is SilentLogger ? (observability?.logger ?? logger) : logger)
        self.random = random
        breakers = transports.map { CircuitBreaker(name: $0.name, configuration: configuration.breaker, clock: clock) }
        budgets = transports.map { _ in RetryBudget(maxTokens: configuration.retryBudgetTokens, tokenRatio: configuration.retryBudgetRatio) }
        (relayWakeups, wakeRelay) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        instruments = observability.map { ProducerInstruments(transports: transports, factory: $0.metrics) }
        tracing = observability?.tracing
        if let observability {
            for breaker in breakers { BreakerInstruments.attach(breaker, factory: observability.metrics) }
            observability.events.attach(self)
        }
    }

    /// The running totals.
    public var statistics: ProducerStatistics { state.withLock { $0.statistics } }

    /// Publishes `envelope`: confirmed by the first transport that can take it, or spooled.
    ///
    /// Throws ``CourierError``: the message's own problem (invalid, too large) at once; when no transport
    /// took it and there is no spool, the last transport's error; when the spool is full, backpressure.
    ///
    /// With an ``Observability``, the caller's ``TraceContext/current`` is written to the envelope's
    /// `traceparent`/`tracestate` headers (unless it has them), so it travels through retries, failover,
    /// the spool, redeliveries and dead-lettering.
    public func publish(_ envelope: Envelope) async throws -> PublishReceipt {
        let envelope = tracing?.injectingCurrentContext(into: envelope) ?? envelope
        let metrics = instruments?.topic(envelope.topic)
        metrics?.requests.increment(by: 1)
        instruments?.publishStarted()
        defer { instruments?.publishFinished() }
        if let spool, !state.withLock({ $0.backlogKnown }) {
            let leftover = try await spool.depth().messages
            state.withLock { state in
                if !state.backlogKnown { state.spoolBacklog += leftover }
                state.backlogKnown = true
            }
        }
        let queueBehindSpool = state.withLock { state -> Bool in
            state.statistics.published += 1
            return spool != nil && state.spoolBacklog > 0
        }
        do {
            try envelope.validate()
            if queueBehindSpool { return try await appendToSpool(envelope, attempts: 0, metrics: metrics) }
            switch await send(envelope, metrics: metrics) {
            case .confirmed(let confirmation, let index, let attempts):
                count { $0.confirmed += 1; if index > 0 { $0.failedOver += 1 } }
                if index > 0 { metrics?.failovers[index].increment(by: 1) }
                return PublishReceipt(messageID: envelope.id, idempotencyKey: envelope.idempotencyKey, outcome: .confirmed(confirmation), attempts: attempts)
            case .refused(let error, let attempts):
                guard spool != nil, error.isRetriable || error.isFatal else { throw error }
                return try await appendToSpool(envelope, attempts: attempts, metrics: metrics)
            }
        } catch {
            count { $0.failed += 1 }
            instruments?.failed(topic: envelope.topic, error: error)
            throw error
        }
    }

    /// Relays the spool until ``shutdown()`` or cancellation — the shape of a service's `run()`.
    /// Without a spool it just waits for shutdown.
    public func run() async throws {
        guard let spool else { return await stopped.wait() }
        let leftover = try await spool.depth().messages
        state.withLock { state in
            if !state.backlogKnown { state.spoolBacklog += leftover }
            state.backlogKnown = true
        }
        await withTaskCancellationHandler {
            await relay(spool)
        } onCancel: {
            wakeRelay.finish()
        }
    }

    /// Stops the relay; messages still in the spool stay there for the next run.
    public func shutdown() async {
        state.withLock { $0.isShutDown = true }
        wakeRelay.finish()
        stopped.open()
    }

    /// Calls `observer` with every event from now on. Observers must be quick.
    @discardableResult
    public func onEvent(_ observer: @escaping @Sendable (ProducerEvent) -> Void) -> UInt64 {
        state.withLock { state in
            state.nextObserver += 1
            state.observers[state.nextObserver] = observer
            return state.nextObserver
        }
    }

    // MARK: Sending

    enum SendResult {
        case confirmed(PublishConfirmation, index: Int, attempts: Int)
        /// Every transport refused or failed; the error explains the last one.
        case refused(CourierError, attempts: Int)
    }

    /// Tries each transport in order, with retries, and returns the first confirmation.
    func send(_ envelope: Envelope, metrics: ProducerTopicInstruments? = nil) async -> SendResult {
        var attempts = 0
        var reasons: [String] = []
        var lastError: CourierError?
        for (index, transport) in transports.enumerated() {
            do {
                let confirmation = try await configuration.retry.run(
                    clock: clock,
                    budget: budgets[index],
                    generator: random,
                    onRetry: { attempt, error, _ in
                        count { $0.retried += 1 }
                        metrics?.retries[index].increment(by: 1)
                        emit(.retried(messageID: envelope.id, transport: transport.name, attempt: attempt, error: "\(error)"))
                    }
                ) { _ in
                    attempts += 1
                    // Latency is wall-clock time even on a virtual clock: it measures the broker, not the policy.
                    let started = ContinuousClock.now
                    let confirmation = try await breakers[index].run {
                        guard let timeout = configuration.attemptTimeout else { return try await transport.publish(envelope) }
                        return try await withAttemptTimeout(timeout, clock: clock, transport: transport.name) {
                            try await transport.publish(envelope)
                        }
                    }
                    if let metrics {
                        metrics.latency[index].record(ContinuousClock.now - started)
                        metrics.sent[index].increment(by: 1)
                    }
                    return confirmation
                }
                noteConfirmed(by: index)
                return .confirmed(confirmation, index: index, attempts: attempts)
            } catch {
                let courierError = (error as? CourierError) ?? CourierError(.unavailable, "\(error)", isRetriable: true, transport: transport.name)
                if courierError.code == .circuitOpen { attempts -= 1 }
                // The message's own fault: no other transport will like it better. (A timed-out attempt is
                // not retried where it hung, but the next transport may well take it.)
                if !courierError.isRetriable, !courierError.isFatal, courierError.code != .circuitOpen, courierError.code != .timedOut {
                    return .refused(courierError, attempts: attempts)
                }
                reasons.append("\(transport.name): \(courierError.message)")
                lastError = courierError
            }
        }
        let summary = reasons.isEmpty ? "no transports are configured" : reasons.joined(separator: "; ")
        var error = CourierError.unavailable("no transport took message \(envelope.id): \(summary)")
        error.mayDuplicate = lastError?.mayDuplicate ?? false
        return .refused(error, attempts: attempts)
    }

    private func noteConfirmed(by index: Int) {
        let previous = state.withLock { state -> Int? in
            defer { state.lastTransport = index }
            return state.lastTransport
        }
        guard let previous, previous != index else { return }
        let from = transports[previous].name, to = transports[index].name
        if index > previous {
            logger.info("failed over from \(from) to \(to)")
            emit(.failedOver(from: from, to: to))
        } else {
            logger.info("failed back from \(from) to \(to)")
            emit(.failedBack(from: from, to: to))
        }
    }

    // MARK: Spool

    private func appendToSpool(_ envelope: Envelope, attempts: Int, metrics: ProducerTopicInstruments?) async throws -> PublishReceipt {
        guard let spool else { throw CourierError.unavailable("no spool is configured") }
        let sequence = try await spool.append(envelope)
        count { $0.spooled += 1 }
        metrics?.spooled.increment(by: 1)
        let backlog = state.withLock { $0.spoolBacklog += 1; return $0.spoolBacklog }
        instruments?.spoolDepth.record(Int64(backlog))
        emit(.spooled(messageID: envelope.id))
        wakeRelay.yield()
        return PublishReceipt(messageID: envelope.id, idempotencyKey: envelope.idempotencyKey, outcome: .spooled(sequence: sequence), attempts: attempts)
    }

    /// Drains the spool oldest first; each row is removed only after a broker confirmed it.
    private func relay(_ spool: any Spool) async {
        var wakeups = relayWakeups.makeAsyncIterator()
        while !isShutDown {
            do {
                let batch = try await spool.oldest(limit: configuration.relayBatchSize)
                if batch.isEmpty {
                    state.withLock { $0.spoolBacklog = 0 }
                    instruments?.spoolDepth.record(Int64(0))
                    guard await wakeups.next() != nil else { return }
                    continue
                }
                // One at a time, so order holds; the confirmed rows are removed together (one synced
                // commit per batch, not per message). A crash before that removal re-sends them: duplicates
                // the idempotency key absorbs, never a loss.
                var confirmed: [(message: SpooledMessage, transport: String, index: Int)] = []
                var refused = false
                for message in batch {
                    guard !isShutDown else { break }
                    guard case .confirmed(let confirmation, let index, _) = await send(message.envelope, metrics: instruments?.topic(message.envelope.topic)) else {
                        refused = true
                        break
                    }
                    confirmed.append((message, confirmation.transport, index))
                }
                try await spool.remove(sequences: confirmed.map(\.message.sequence))
                let backlog = state.withLock { $0.spoolBacklog = max(0, $0.spoolBacklog - confirmed.count); return $0.spoolBacklog }
                count { $0.drainedFromSpool += confirmed.count }
                instruments?.spoolDepth.record(Int64(backlog))
                for (message, transport, index) in confirmed {
                    instruments?.topic(message.envelope.topic).drained[index].increment(by: 1)
                    emit(.drained(messageID: message.envelope.id, transport: transport))
                }
                if isShutDown { return }
                if refused { try await clock.sleep(for: configuration.relayInterval) }
            } catch is CancellationError {
                return
            } catch {
                logger.info("spool relay: \(error); retrying in \(configuration.relayInterval)")
                try? await clock.sleep(for: configuration.relayInterval)
            }
        }
    }

    private var isShutDown: Bool { state.withLock { $0.isShutDown } || Task.isCancelled }

    private func count(_ update: (inout ProducerStatistics) -> Void) {
        state.withLock { update(&$0.statistics) }
    }

    private func emit(_ event: ProducerEvent) {
        let observers = state.withLock { Array($0.observers.values) }
        observers.forEach { $0(event) }
    }
}
