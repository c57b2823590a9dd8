import Foundation
import Synchronization

/// A message as a handler sees it.
public struct IncomingMessage: Sendable {
    /// Read from the delivery when asked: copying a source costs a reference count per string, and most
    /// handlers never look at it.
    private let delivery: Delivery
    public var envelope: Envelope { delivery.envelope }
    /// Where it came from (transport, topic, group, partition, offset).
    public var source: DeliverySource { delivery.source }
    /// Delayed redeliveries it has had so far (from the `courier-attempt` header).
    public let redeliveries: Int
    /// Handler runs in this delivery, this one included.
    public let attempt: Int

    init(delivery: Delivery, redeliveries: Int, attempt: Int) {
        self.delivery = delivery
        self.redeliveries = redeliveries
        self.attempt = attempt
    }
}

/// Something the consumer did that an operator may want to know about.
public enum ConsumerEvent: Sendable, Hashable {
    /// A message went to the dead-letter destination (reported once, at the final outcome).
    case deadLettered(messageID: String, reason: String, topic: String)
    /// The handler breaker opened: consumption pauses until it lets trial calls through.
    case paused(reason: String)
    /// The handler breaker closed again.
    case resumed
    /// A lost subscription was opened again.
    case resubscribed(transport: String)
}

/// The consumer pipeline: subscribes on every transport of a failover set as one group, deduplicates by
/// idempotency key, runs the handler with bounded concurrency (optionally one message per key at a time),
/// and on failure follows the recoverability policy: retry now, redeliver later (attempts in headers),
/// dead-letter (with fault headers, acked only after the dead letter is confirmed) or discard. A breaker
/// around the handler pauses consumption while a downstream keeps failing. ``shutdown()`` stops pulling,
/// lets in-flight handlers finish within a grace period and hands the rest back to the broker.
public final class Consumer: Sendable {
    public typealias Handler = @Sendable (IncomingMessage) async throws -> Void

    public let transports: [any Transport]
    public let configuration: ConsumerConfiguration
    /// The breaker around the handler, when configured.
    public let handlerBreaker: CircuitBreaker?
    private let store: (any IdempotencyStore)?
    /// `store` when it is the in-memory one, which answers without an async call.
    private let memoryStore: MemoryIdempotencyStore?
    /// Whether there is a `store`: testing the optional existential itself copies it, a reference count
    /// per test on an object every core shares.
    private let hasStore: Bool
    private let deadLetterProducer: Producer?
    private let clock: any CourierClock
    private let logger: any CourierLogger
    private let handler: Handler
    private let queue: DeliveryQueue
    private let lanes = KeyedLanes()
    private let counters = ConsumerCounters()
    /// The base of this consumer's idempotency holder tokens (random: other consumers share the store).
    private let holderBase = UInt64.random(in: 1...UInt64.max)
    /// Workers not yet returned. Once the queue is closed a worker returns after its current message, so
    /// shutdown's drain waits for this to reach zero. Counted per worker, not per message: a count of
    /// running handlers would be a shared write twice per message from every core.
    private let runningWorkers = Atomic<Int>(0)
    private let state = Mutex(ConsumerState())
    private let stopRequested = Latch()
    /// Metric handlers per transport (same order) and trace propagation, when an ``Observability`` was given.
    private let observed: ObservedConsumer?

    private struct ConsumerState {
        var streams: [UInt64: DeliveryStream] = [:]
        var nextStream: UInt64 = 0
        var observers: [@Sendable (ConsumerEvent) -> Void] = []
        var drainWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextDrainWaiter: UInt64 = 0
    }

    /// - Parameters:
    ///   - deadLetterProducer: publishes dead letters (with its failover and spool); by default they go to
    ///     the transport the message came from.
    /// - Throws: ``CourierError/Code/invalidConfiguration`` when the settings contradict each other.
    public init(
        transports: [any Transport],
        configuration: ConsumerConfiguration,
        idempotencyStore: (any IdempotencyStore)? = nil,
        deadLetterProducer: Producer? = nil,
        clock: any CourierClock = SystemClock(),
        logger: any CourierLogger = SilentLogger(),
        observability: Observability? = nil,
        handler: @escaping Handler
    ) throws {
        guard !transports.isEmpty else {
            throw CourierError.configuration(field: "consumer.transports", "is empty; give the consumer at least one transport")
        }
        if configuration.guarantee == .exactlyOnceEffects, idempotencyStore == nil {
            throw CourierError.configuration(
                field: "consumer.guarantee",
                "is exactly-once-effects but no idempotency store is given; pass a MemoryIdempotencyStore or SQLiteIdempotencyStore"
            )
        }
        try Subscription(topic: configuration.topic, group: configuration.group, prefetch: configuration.prefetch).validate()
        self.transports = transports
        self.configuration = configuration
        self.store = configuration.guarantee == .atMostOnce ? nil : idempotencyStore
        memoryStore = self.store as? MemoryIdempotencyStore
        hasStore = self.store != nil
        self.deadLetterProducer = deadLetterProducer
        self.clock = clock
        self.logger = RedactingLogger(logger is SilentLogger ? (observability?.logger ?? logger) : logger)
        self.handler = handler
        queue = DeliveryQueue(lowWatermark: configuration.concurrency)
        handlerBreaker = configuration.handlerBreaker.map {
            CircuitBreaker(name: "handler \(configuration.topic)/\(configuration.group)", configuration: $0, clock: clock)
        }
        observed = observability.map { ObservedConsumer(transports: transports, configuration: configuration, observability: $0) }
        handlerBreaker?.onTransition { [weak self] transition in self?.noteBreaker(transition) }
        if let observability {
            if let handlerBreaker { BreakerInstruments.attach(handlerBreaker, factory: observability.metrics) }
            observability.events.attach(self)
        }
    }

    public var statistics: ConsumerStatistics { counters.snapshot }

    /// Calls `observer` with every event from now on. Observers must be quick.
    public func onEvent(_ observer: @escaping @Sendable (ConsumerEvent) -> Void) {
        state.withLock { $0.observers.append(observer) }
    }

    /// Consumes until ``shutdown()`` or cancellation — the shape of a service's `run()`.
    public func run() async {
        await withTaskCancellationHandler {
            await withTaskGroup(of: Bool.self) { group in
                for transport in transports {
                    group.addTask { await self.consume(from: transport); return true }
                }
                // A fixed set of workers, not a task per message: a busy consumer takes the next delivery
                // without suspending or allocating.
                runningWorkers.store(configuration.concurrency, ordering: .releasing)
                for worker in 0..<configuration.concurrency {
                    group.addTask { await self.work(HolderSequence(base: self.holderBase, worker: worker)); return true }
                }
                group.addTask {
                    await self.stopRequested.wait()
                    // Idle workers leave; busy ones finish their message first. What is queued and not
                    // started goes back to the broker when its subscription closes.
                    self.queue.close()
                    // Subscriptions stay open while handlers drain: closing one hands its unsettled
                    // deliveries back to the broker at once, so an in-flight message would go to another
                    // consumer while its handler still runs here, and its ack would then fail.
                    _ = await self.drain(within: self.configuration.shutdownGracePeriod)
                    await self.closeStreams()
                    return false
                }
                var running = transports.count + configuration.concurrency
                while let finishedLoop = await group.next() {
                    if finishedLoop {
                        running -= 1
                        if running == 0 { group.cancelAll() }
                    } else {
                        // Drained, or the grace period is over: cancel handlers still running (their
                        // messages go back) and loops waiting to resubscribe.
                        group.cancelAll()
                    }
                }
            }
        } onCancel: {
            stopRequested.open()
        }
    }

    /// Stops pulling; in-flight handlers get the grace period to finish, then their messages are handed
    /// back for redelivery (as are deliveries received but not started). Returns at once; ``run()``
    /// returns when the drain is done.
    public func shutdown() async {
        stopRequested.open()
    }

    /// True once every worker has returned (no handler runs); false when `grace` passed first (or the task
    /// was cancelled).
    private func drain(within grace: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { race in
            race.addTask {
                await self.waitForWorkers()
                return !Task.isCancelled
            }
            race.addTask {
                try? await self.clock.sleep(for: grace)
                return false
            }
            let drained = await race.next() ?? false
            race.cancelAll()
            return drained
        }
    }

    private func waitForWorkers() async {
        let id = state.withLock { state -> UInt64 in
            state.nextDrainWaiter += 1
            return state.nextDrainWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let idle = state.withLock { state -> Bool in
                    if runningWorkers.load(ordering: .acquiring) == 0 || Task.isCancelled { return true }
                    state.drainWaiters[id] = continuation
                    return false
                }
                if idle { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.drainWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    private func workerReturned() {
        // A drain registers under the lock after reading the count, so it either sees zero or is found here.
        guard runningWorkers.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.drainWaiters = [:] }
            return Array(state.drainWaiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    private func closeStreams() async {
        let streams = state.withLock { Array($0.streams.values) }
        for stream in streams { await stream.close() }
    }

    private var isStopping: Bool { stopRequested.isOpen || Task.isCancelled }

    // MARK: Subscriptions

    /// Subscribes to one transport and hands its deliveries to handlers; subscribes again when the
    /// subscription is lost, so consumption never silently stops.
    private func consume(from transport: any Transport) async {
        var first = true
        while !isStopping {
            do {
                let stream = try await transport.subscribe(
                    Subscription(topic: configuration.topic, group: configuration.group, prefetch: configuration.prefetch)
                )
                let id = state.withLock { state -> UInt64 in
                    state.nextStream += 1
                    state.streams[state.nextStream] = stream
                    return state.nextStream
                }
                if !first { emit(.resubscribed(transport: transport.name)) }
                first = false
                defer { state.withLock { _ = $0.streams.removeValue(forKey: id) } }
                if isStopping { await stream.close() }
                var deliveries = stream.makeAsyncIterator()
                while let batch = try await deliveries.nextBatch() {
                    // Stopping: not started; they go back to the broker when the stream closes.
                    if isStopping { continue }
                    queue.push(batch)
                    await queue.waitForRoom()
                }
            } catch {
                logger.info("consumer of \(configuration.topic) lost its subscription on \(transport.name): \(error)")
            }
            if isStopping { return }
            try? await clock.sleep(for: configuration.resubscribeDelay)
        }
    }

    /// One worker: takes deliveries until the queue closes.
    private func work(_ holders: consuming HolderSequence) async {
        defer { workerReturned() }
        while true {
            // A queued delivery is taken with a plain call; only an empty queue costs an async one.
            var next = queue.popReady()
            if next == nil { next = .some(await queue.pop()) }
            guard let delivery = next ?? nil else { return }
            // The latch alone: cancelling ``run()`` opens it too, and `Task.isCancelled` costs an atomic
            // read of the task's status per message.
            if stopRequested.isOpen { continue }
            observed?.inFlight.add(1)
            await dispatch(delivery, holders: &holders)
            observed?.inFlight.add(-1)
        }
    }

    /// Runs the delivery now, or queues it behind the one running for its key.
    @inline(__always)
    private func dispatch(_ delivery: Delivery, holders: inout HolderSequence) async {
        guard configuration.keepOrderPerKey, let key = delivery.envelope.orderingKey else {
            return await process(delivery, holders: &holders)
        }
        guard lanes.enter(key, with: delivery) else { return }
        var next: Delivery? = delivery
        while let current = next {
            await process(current, holders: &holders)
            next = lanes.next(key)
        }
    }

    // MARK: One message

    private func process(_ delivery: Delivery, holders: inout HolderSequence) async {
        let envelope = delivery.envelope
        // Most messages carry no headers: skip the two string-keyed lookups then.
        let redeliveries = envelope.headers.isEmpty ? 0 : Int(envelope.headers[CourierHeader.attempt] ?? "") ?? 0
        let earlierFailures = envelope.headers.isEmpty ? 0 : Int(envelope.headers[CourierHeader.failures] ?? "") ?? 0
        if configuration.guarantee == .atMostOnce {
            return await processAtMostOnce(delivery, redeliveries: redeliveries)
        }
        // Holders tell idempotency claims apart; without a store there is nothing to claim.
        let holder = hasStore ? holders.next() : IdempotencyHolder.anyone
        if hasStore {
            do {
                switch try await claim(envelope.idempotencyKey, holder: holder) {
                case .completed:
                    try await delivery.ack()
                    counters.duplicatesDropped.increment()
                    metrics(delivery)?.deduplicated.increment(by: 1)
                    return
                case .inProgress:
                    // Its twin is running; look again later rather than run it twice.
                    try await delivery.redeliver(after: configuration.resubscribeDelay)
                    return
                case .claimed:
                    break
                }
            } catch {
                logger.info("idempotency store failed for \(envelope.id): \(error); the message is handed back")
                try? await delivery.nack(requeue: true)
                return
            }
        }
        var attempt = 0
        while true {
            attempt += 1
            guard case .admitted(let permit) = await admitThroughBreaker() else {
                await handBack(delivery, holder: holder)
                return
            }
            do {
                try await runHandler(IncomingMessage(delivery: delivery, redeliveries: redeliveries, attempt: attempt))
                if let permit { recordSuccess(permit) }
                if hasStore {
                    do {
                        try await complete(envelope.idempotencyKey)
                    } catch {
                        // The effect happened: ack anyway, but say that a twin may run again after the lease.
                        logger.info("idempotency store could not mark \(envelope.idempotencyKey) done (\(error)); a duplicate arriving after the lease may run again")
                    }
                }
                try? await delivery.ack()
                counters.consumed.increment()
                metrics(delivery)?.consumed.increment(by: 1)
                return
            } catch {
                if let permit { handlerBreaker?.record(permit, error: error) }
                if error is CancellationError || isStopping {
                    await handBack(delivery, holder: holder)
                    return
                }
                let context = FailureContext(error: error, immediateAttempts: attempt, redeliveries: redeliveries, envelope: envelope)
                switch configuration.recoverability.decide(context) {
                case .retryNow(let pause):
                    counters.retried.increment()
                    metrics(delivery)?.retries.increment(by: 1)
                    try? await clock.sleep(for: pause)
                case .redeliverLater(let delay):
                    await release(envelope, holder: holder)
                    do {
                        try await delivery.redeliver(after: delay, headers: [
                            CourierHeader.attempt: String(redeliveries + 1),
                            CourierHeader.failures: String(earlierFailures + attempt),
                            CourierHeader.firstFailedAt: envelope.headers[CourierHeader.firstFailedAt]
                                ?? ISO8601DateFormatter().string(from: clock.wallClockNow()),
                        ])
                        counters.redelivered.increment()
                        metrics(delivery)?.redelivered.increment(by: 1)
                    } catch let failure as CourierError where failure.code == .unsupported {
                        // A policy action the transport cannot perform is downgraded, loudly, never ignored.
                        logger.info("\(delivery.source.transport) cannot redeliver later (\(failure.message)); dead-lettering \(envelope.id) instead")
                        await deadLetter(delivery, error: error, reason: "redelivery-unsupported", attempts: earlierFailures + attempt)
                    } catch {
                        // The delivery's channel is gone: the broker delivers it again by itself.
                        logger.info("could not schedule redelivery of \(envelope.id): \(error)")
                        try? await delivery.nack(requeue: true)
                    }
                    return
                case .deadLetter(let reason):
                    await release(envelope, holder: holder)
                    await deadLetter(delivery, error: error, reason: reason, attempts: earlierFailures + attempt)
                    return
                case .discard(let reason):
                    await release(envelope, holder: holder)
                    try? await delivery.ack()
                    logger.info("discarded \(envelope.id): \(reason)")
                    counters.discarded.increment()
                    metrics(delivery)?.discarded.increment(by: 1)
                    return
                }
            }
        }
    }

    private func processAtMostOnce(_ delivery: Delivery, redeliveries: Int) async {
        // Acked first: if the ack does not go through, the message comes again, so do not run it now.
        guard (try? await delivery.ack()) != nil else { return }
        do {
            try await runHandler(IncomingMessage(delivery: delivery, redeliveries: redeliveries, attempt: 1))
            counters.consumed.increment()
            metrics(delivery)?.consumed.increment(by: 1)
        } catch {
            logger.info("at-most-once handler failed for \(delivery.envelope.id); the message is dropped by choice: \(error)")
            counters.lostByChoice.increment()
        }
    }

    /// Publishes the dead letter and acks the original only once that is confirmed; otherwise the
    /// original comes back later (never lost).
    private func deadLetter(_ delivery: Delivery, error: any Error, reason: String, attempts: Int) async {
        let letter = DeadLetter.envelope(
            for: delivery, error: error, reason: reason, attempts: attempts,
            topic: configuration.effectiveDeadLetterTopic, messageBudget: configuration.faultMessageBudget,
            failedAt: clock.wallClockNow(), firstFailedAt: delivery.envelope.headers[CourierHeader.firstFailedAt]
        )
        do {
            if let deadLetterProducer {
                _ = try await deadLetterProducer.publish(letter)
            } else {
                let origin = transports.first { $0.name == delivery.source.transport } ?? transports[0]
                _ = try await origin.publish(letter)
            }
            try? await delivery.ack()
            counters.deadLettered.increment()
            metrics(delivery)?.deadLettered.increment(by: 1)
            logger.info("dead-lettered \(delivery.envelope.id) to \(letter.topic): \(reason): \(error)")
            emit(.deadLettered(messageID: delivery.envelope.id, reason: reason, topic: letter.topic))
        } catch {
            logger.info("could not dead-letter \(delivery.envelope.id) (\(error)); it will be delivered again")
            try? await delivery.redeliver(after: configuration.resubscribeDelay)
        }
    }

    /// Returns a delivery whose handler was interrupted by shutdown.
    private func handBack(_ delivery: Delivery, holder: IdempotencyHolder) async {
        await release(delivery.envelope, holder: holder)
        try? await delivery.nack(requeue: true)
    }

    /// Claims `key` in the store; the memory store answers through a plain call (no async call per message).
    @inline(__always)
    private func claim(_ key: String, holder: IdempotencyHolder) async throws -> IdempotencyClaim {
        if let claim = claimInMemory(key, holder: holder) { return claim }
        return try await claimInStore(key, holder: holder)
    }

    /// The memory store's answer; `nil` with any other store. Synchronous and never inlined: in a
    /// synchronous function the store is read in place, where an async one retains and releases it.
    @inline(never)
    private func claimInMemory(_ key: String, holder: IdempotencyHolder) -> IdempotencyClaim? {
        memoryStore?.claimImmediately(key, lease: configuration.idempotencyLease, holder: holder)
    }

    private func claimInStore(_ key: String, holder: IdempotencyHolder) async throws -> IdempotencyClaim {
        guard let store else { return .claimed }
        return try await store.claim(key, lease: configuration.idempotencyLease, holder: holder)
    }

    /// Marks `key` done in the store; the memory store through a plain call.
    @inline(__always)
    private func complete(_ key: String) async throws {
        if completeInMemory(key) { return }
        try await store?.complete(key)
    }

    /// Whether the memory store took the completion (as ``claimInMemory(_:holder:)``; optional chaining,
    /// where binding the store would retain it).
    @inline(never)
    private func completeInMemory(_ key: String) -> Bool {
        memoryStore?.completeImmediately(key) != nil
    }

    private func release(_ envelope: Envelope, holder: IdempotencyHolder) async {
        if let store { try? await store.release(envelope.idempotencyKey, holder: holder) }
    }

    private enum Admission {
        /// Run the handler (with the breaker's permit, when there is a breaker).
        case admitted(CircuitBreaker.Permit?)
        /// Shutting down while the breaker refused: hand the message back.
        case stopped
    }

    /// Waits while the handler breaker refuses calls (consumption pauses: no slot frees, nothing is pulled).
    @inline(__always)
    private func admitThroughBreaker() async -> Admission {
        // A breaker that admits answers through a plain call; only a refusing one costs an async call.
        if let admission = admitNow() { return admission }
        return await waitForAdmission()
    }

    /// The admission when the breaker admits now (or there is none); `nil` when it refuses. Synchronous and
    /// never inlined, like ``claimInMemory(_:holder:)``: the breaker is reached through optional chaining
    /// in place, where an async function retains and releases it, on an object every core shares.
    @inline(never)
    private func admitNow() -> Admission? {
        guard handlerBreaker != nil else { return .admitted(nil) }
        return (try? handlerBreaker?.acquire()).map { .admitted($0) }
    }

    /// Records a handler success with the breaker (never inlined, as ``admitNow()``).
    @inline(never)
    private func recordSuccess(_ permit: CircuitBreaker.Permit) {
        handlerBreaker?.recordSuccess(permit)
    }

    private func waitForAdmission() async -> Admission {
        guard let handlerBreaker else { return .admitted(nil) }
        while true {
            if isStopping { return .stopped }
            try? await clock.sleep(for: min(handlerBreaker.configuration.openDuration, .milliseconds(100)))
            if let permit = try? handlerBreaker.acquire() { return .admitted(permit) }
        }
    }

    private func noteBreaker(_ transition: CircuitBreaker.Transition) {
        switch transition.to {
        case .open:
            counters.pauses.increment()
            logger.info("handler breaker opened; consumption of \(configuration.topic) pauses: \(transition.reason)")
            emit(.paused(reason: transition.reason))
        case .closed where transition.from == .halfOpen:
            emit(.resumed)
        default:
            break
        }
    }

    // MARK: Observability (metrics and trace context; all no-ops without an Observability)

    /// The metric handlers of the transport `delivery` came from (resolved at init; no lookup by label here).
    private func metrics(_ delivery: Delivery) -> ConsumerInstruments? {
        observed?.instruments(for: delivery.source.transport)
    }

    /// Runs the handler; with an ``Observability``, inside the message's trace context and timed.
    @inline(__always)
    private func runHandler(_ message: IncomingMessage) async throws {
        if let observed { try await observedHandler(message, observed) } else { try await handler(message) }
    }

    /// Runs the handler inside the message's trace context (so what it publishes continues the trace) and
    /// times it.
    private func observedHandler(_ message: IncomingMessage, _ observed: ObservedConsumer) async throws {
        let latency = observed.instruments(for: message.source.transport)?.handlerLatency
        let started = ContinuousClock.now
        defer { latency?.record(ContinuousClock.now - started) }
        guard let context = observed.tracing.extractContext(from: message.envelope) else { return try await handler(message) }
        try await TraceContext.$current.withValue(context) { try await handler(message) }
    }


    private func emit(_ event: ConsumerEvent) {
        let observers = state.withLock { $0.observers }
        observers.forEach { $0(event) }
    }
}
