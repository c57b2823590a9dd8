import Courier
import CourierAMQP
import CourierMemory
import Synchronization
import Testing

@Suite("observability: consumer metrics and trace context", .timeLimit(.minutes(1)))
struct ConsumerObservabilityTests {
    struct Poison: UnrecoverableError {}
    struct Flaky: Error {}

    @Test("consumed, deduplicated, retried, redelivered and dead-lettered are counted exactly; the handler runs in the message's trace, which survives redelivery and dead-lettering")
    func countersAndTrace() async throws {
        let clock = VirtualClock()
        let broker = MemoryBroker(name: "observed-consumer-\(Envelope.makeID())", clock: clock)
        let transport = MemoryTransport(broker: broker, name: "memory")
        try await transport.start()
        let harness = MemoryTestHarness(broker: broker)
        let registry = MetricsRegistry()
        let observability = Observability(registry: registry, tracing: W3CTraceContextInstrument(), logger: SilentLogger())
        let events = observability.events.subscribe()
        let trace = try #require(sampleTrace)
        let seenTraces = Mutex<[String: [String?]]>([:])

        let consumer = try Consumer(
            transports: [transport],
            configuration: ConsumerConfiguration(
                topic: "jobs", group: "workers", concurrency: 1, guarantee: .exactlyOnceEffects,
                recoverability: .standard(immediateRetries: 1, immediateBackoff: .zero, delays: [.seconds(1)])
            ),
            idempotencyStore: MemoryIdempotencyStore(clock: clock),
            clock: clock,
            observability: observability
        ) { message in
            let id = message.envelope.id
            seenTraces.withLock { $0[id, default: []].append(TraceContext.current?.traceparent) }
            switch id {
            case "flaky" where message.attempt == 1: throw Flaky()
            case "redeliver" where message.redeliveries == 0: throw Flaky()
            case "poison": throw Poison()
            default: return
            }
        }
        let advancing = autoAdvance(clock)
        let running = Task { await consumer.run() }
        let traced = ["traceparent": trace.traceparent, "tracestate": trace.tracestate ?? ""]
        broker.inject(.duplicateDeliveries(count: 1))
        for (id, headers) in [("dup", [:]), ("ok", [:]), ("flaky", [:]), ("redeliver", traced), ("poison", traced)] {
            _ = try await transport.publish(Envelope(topic: "jobs", payload: Array(id.utf8), id: id, headers: headers))
        }
        let record = try await harness.waitForAcks(6, topic: "jobs")
        #expect(record.published.contains { $0.topic == "jobs.dlq" })
        await consumer.shutdown()
        await running.value
        advancing.cancel()

        let labels = [
            (MessagingMetrics.system, "memory"), (MessagingMetrics.transport, "memory"), (MessagingMetrics.destination, "jobs"),
            (MessagingMetrics.consumerGroup, "workers"), (MessagingMetrics.operationType, "process"),
        ]
        #expect(registry.counterValue(MessagingMetrics.consumedMessages, labels) == 4)
        #expect(registry.counterValue(MessagingMetrics.deduplicated, labels) == 1)
        #expect(registry.counterValue(MessagingMetrics.handlerRetries, labels) == 2)
        #expect(registry.counterValue(MessagingMetrics.redelivered, labels) == 1)
        #expect(registry.counterValue(MessagingMetrics.deadLettered, labels) == 1)
        #expect(registry.counterValue(MessagingMetrics.discarded, labels) == 0)
        #expect(registry.gaugeValue(MessagingMetrics.inFlight, [(MessagingMetrics.destination, "jobs"), (MessagingMetrics.consumerGroup, "workers")]) == 0)
        // Handler runs: dup 1, ok 1, flaky 2, redeliver 2 + 1, poison 1.
        #expect(registry.histogram(MessagingMetrics.processDuration, labels).count == 8)
        #expect(consumer.statistics.consumed == 4 && consumer.statistics.duplicatesDropped == 1)

        let traces = seenTraces.withLock { $0 }
        #expect(traces["redeliver"] == [trace.traceparent, trace.traceparent, trace.traceparent])
        #expect(traces["poison"] == [trace.traceparent])
        #expect(traces["ok"] == [nil])
        let redelivered = record.deliveries.filter { $0.envelope.id == "redeliver" }.map(\.envelope)
        #expect(redelivered.count == 3 - 1)  // The immediate retry runs within one delivery.
        #expect(redelivered.allSatisfy { $0.headers["traceparent"] == trace.traceparent && $0.headers["tracestate"] == trace.tracestate })
        let letter = try #require(record.published.first { $0.topic == "jobs.dlq" })
        #expect(letter.id == "poison")
        #expect(letter.headers["traceparent"] == trace.traceparent)
        #expect(letter.headers["tracestate"] == trace.tracestate)

        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next() == .deadLettered(messageID: "poison", reason: "unrecoverable", topic: "jobs.dlq"))
        await harness.stop()
        await transport.shutdown()
    }

    @Test("the consumer's handler breaker reports its state gauge and its pause through the event stream")
    func handlerBreakerObserved() async throws {
        let clock = VirtualClock()
        let broker = MemoryBroker(name: "observed-breaker-\(Envelope.makeID())", clock: clock)
        let transport = MemoryTransport(broker: broker, name: "memory")
        try await transport.start()
        let registry = MetricsRegistry()
        let observability = Observability(registry: registry, tracing: W3CTraceContextInstrument(), logger: SilentLogger())
        let events = observability.events.subscribe()
        let consumer = try Consumer(
            transports: [transport],
            configuration: ConsumerConfiguration(
                topic: "jobs", group: "workers", concurrency: 1,
                recoverability: .standard(immediateRetries: 0, delays: [.seconds(30)]),
                handlerBreaker: CircuitBreakerConfiguration(window: .count(4), minimumCalls: 2, openDuration: .seconds(60))
            ),
            clock: clock,
            observability: observability
        ) { _ in throw Flaky() }
        let running = Task { await consumer.run() }
        for index in 0..<2 { _ = try await transport.publish(Envelope(topic: "jobs", text: "\(index)")) }
        // The breaker's transition and the consumer's pause come from two observers of one transition, in either order.
        var iterator = events.makeAsyncIterator()
        var received: [ReliabilityEvent] = []
        while received.count < 2, let event = await iterator.next() { received.append(event) }
        let transition = received.compactMap { event -> CircuitBreaker.Transition? in
            if case .breakerTransition(let transition) = event { return transition }
            return nil
        }.first
        #expect(transition?.to == .open)
        #expect(received.contains(.consumerPaused(reason: transition?.reason ?? "")))
        let breaker = try #require(consumer.handlerBreaker)
        #expect(registry.gaugeValue(MessagingMetrics.breakerState, [(MessagingMetrics.breaker, breaker.name)]) == 1)
        // A paused consumer waits on the clock; let time run so shutdown can finish.
        let advancing = autoAdvance(clock)
        await consumer.shutdown()
        await running.value
        advancing.cancel()
        await transport.shutdown()
    }
}

@Suite("observability: AMQP connection recovery in the reliability event stream")
struct AMQPRecoveryEventTests {
    @Test("a loss starts recovery, failed reconnects are attempts, a recovery finishes it; connect and close are not events")
    func mapping() {
        #expect(ReliabilityEvent(.lost(reason: "socket closed"), transport: "rabbit") == .recoveryStarted(transport: "rabbit", reason: "socket closed"))
        #expect(ReliabilityEvent(.reconnectFailed(attempt: 2, reason: "refused"), transport: "rabbit") == .recoveryAttemptFailed(transport: "rabbit", attempt: 2, reason: "refused"))
        #expect(ReliabilityEvent(.recovered(address: "127.0.0.1:5672", attempts: 3, consumers: 1), transport: "rabbit") == .recoveryFinished(transport: "rabbit", attempts: 3))
        #expect(ReliabilityEvent(.connected(address: "127.0.0.1:5672"), transport: "rabbit") == nil)
        #expect(ReliabilityEvent(.closed, transport: "rabbit") == nil)
    }

    @Test("forwarded recovery events reach subscribers and move the recovery counters")
    func forwardedAndCounted() async {
        let registry = MetricsRegistry()
        let events = ReliabilityEvents(metrics: registry)
        let subscription = events.subscribe()
        let source: [AMQPConnectionEvent] = [
            .connected(address: "a"), .lost(reason: "gone"), .reconnectFailed(attempt: 1, reason: "refused"),
            .reconnectFailed(attempt: 2, reason: "refused"), .recovered(address: "a", attempts: 3, consumers: 0), .closed,
        ]
        let (stream, continuation) = AsyncStream<AMQPConnectionEvent>.makeStream()
        for event in source { continuation.yield(event) }
        continuation.finish()
        await events.forward(stream) { ReliabilityEvent($0, transport: "rabbit") }.value
        var received: [ReliabilityEvent] = []
        for await event in subscription {
            received.append(event)
            if received.count == 4 { break }
        }
        #expect(received == [
            .recoveryStarted(transport: "rabbit", reason: "gone"), .recoveryAttemptFailed(transport: "rabbit", attempt: 1, reason: "refused"),
            .recoveryAttemptFailed(transport: "rabbit", attempt: 2, reason: "refused"), .recoveryFinished(transport: "rabbit", attempts: 3),
        ])
        #expect(registry.counterValue(MessagingMetrics.recoveryAttempts, [(MessagingMetrics.transport, "rabbit")]) == 2)
        #expect(registry.counterValue(MessagingMetrics.recoveries, [(MessagingMetrics.transport, "rabbit")]) == 1)
    }
}
