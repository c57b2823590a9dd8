import Courier
import CourierMemory
import CourierSQLite
import Testing

@Suite("observability: producer metrics, events and trace context", .timeLimit(.minutes(1)))
struct ProducerObservabilityTests {
    @Test("retries, failover and failures move their counters by exactly what happened")
    func countersFollowRetryAndFailover() async throws {
        let fixture = try await ObservedFixture()
        // A breaker that stays closed here, so every failure is a plain retry.
        let producer = fixture.producer(breakerMinimumCalls: 100)
        _ = try await producer.publish(Envelope(topic: "orders", text: "1"))
        fixture.brokers[0].inject(.failPublishes(count: 2, retriable: true))
        _ = try await producer.publish(Envelope(topic: "orders", text: "2"))
        fixture.brokers[0].inject(.failPublishes(count: 3, retriable: true))
        _ = try await producer.publish(Envelope(topic: "orders", text: "3"))
        fixture.brokers.forEach { $0.inject(.failPublishes(count: 1, retriable: false)) }
        await #expect(throws: CourierError.self) { _ = try await producer.publish(Envelope(topic: "orders", text: "4")) }

        let registry = fixture.registry
        #expect(registry.counterValue(MessagingMetrics.publishRequests, [(MessagingMetrics.destination, "orders")]) == 4)
        #expect(fixture.sent("primary") == 2)
        #expect(fixture.sent("secondary") == 1)
        // Message 2 retried twice on the primary; message 3 twice more before it moved on.
        #expect(fixture.sent("primary", MessagingMetrics.publishRetries) == 4)
        #expect(producer.statistics.retried == 4)
        #expect(fixture.sent("secondary", MessagingMetrics.failovers) == 1)
        #expect(fixture.sent("primary", MessagingMetrics.failovers) == 0)
        #expect(registry.counterTotal(MessagingMetrics.publishFailures, matching: [(MessagingMetrics.destination, "orders")]) == 1)
        #expect(registry.counterValue(MessagingMetrics.publishFailures, [(MessagingMetrics.destination, "orders"), (MessagingMetrics.errorType, "unavailable")]) == 1)
        #expect(registry.gaugeValue(MessagingMetrics.publishesInFlight) == 0)
        let text = registry.prometheusText()
        #expect(text.contains("messaging_client_operation_duration_seconds_count{messaging_system=\"memory\",courier_transport=\"primary\",messaging_destination_name=\"orders\",messaging_operation_type=\"send\"} 2"))
        await fixture.shutdown()
    }

    @Test("spooled and drained messages are counted, the spool depth gauge goes up and back to zero, and events say so in order")
    func spoolMetricsAndEvents() async throws {
        let file = TemporaryFile()
        defer { file.remove() }
        let fixture = try await ObservedFixture()
        let spool = try await SQLiteSpool.open(path: file.path, clock: fixture.clock)
        let producer = fixture.producer(maxAttempts: 1, spool: spool)
        let events = fixture.observability.events.subscribe()
        fixture.brokers.forEach { $0.inject(.down) }
        for index in 0..<3 { _ = try await producer.publish(Envelope(topic: "orders", text: "\(index)", id: "m-\(index)")) }
        #expect(fixture.registry.counterValue(MessagingMetrics.spooled, [(MessagingMetrics.destination, "orders")]) == 3)
        #expect(fixture.registry.gaugeValue(MessagingMetrics.spoolDepth) == 3)

        let advancing = autoAdvance(fixture.clock)
        let relay = Task { try await producer.run() }
        fixture.brokers[1].inject(.up)
        let drained = try await drain(fixture.transports[1], topic: "orders", count: 3)
        #expect(drained.map(\.id) == ["m-0", "m-1", "m-2"])
        var seen: [ReliabilityEvent] = []
        for await event in events {
            if case .breakerTransition = event { continue }
            seen.append(event)
            if seen.count == 6 { break }
        }
        #expect(seen == [
            .spooled(messageID: "m-0"), .spooled(messageID: "m-1"), .spooled(messageID: "m-2"),
            .drained(messageID: "m-0", transport: "secondary"), .drained(messageID: "m-1", transport: "secondary"),
            .drained(messageID: "m-2", transport: "secondary"),
        ])
        #expect(fixture.sent("secondary", MessagingMetrics.drained) == 3)
        #expect(fixture.sent("secondary") == 3)
        #expect(fixture.registry.gaugeValue(MessagingMetrics.spoolDepth) == 0)

        await producer.shutdown()
        try await relay.value
        advancing.cancel()
        await spool.close()
        await fixture.shutdown()
    }

    @Test("a breaker's state gauge and transition counters follow it, and its transitions reach the event stream")
    func breakerMetricsAndEvents() async throws {
        let fixture = try await ObservedFixture()
        let producer = fixture.producer(maxAttempts: 1)
        let events = fixture.observability.events.subscribe()
        let state = [(MessagingMetrics.breaker, "primary")]
        #expect(fixture.registry.gaugeValue(MessagingMetrics.breakerState, state) == 0)
        // The first publish sets where traffic goes; the failover event comes when it moves.
        _ = try await producer.publish(Envelope(topic: "orders", text: "warm-up"))
        fixture.brokers[0].inject(.down)
        for index in 0..<4 { _ = try await producer.publish(Envelope(topic: "orders", text: "\(index)")) }
        #expect(producer.breakers[0].currentState == .open)
        #expect(fixture.registry.gaugeValue(MessagingMetrics.breakerState, state) == 1)
        #expect(fixture.registry.counterValue(MessagingMetrics.breakerTransitions, state + [(MessagingMetrics.state, "open")]) == 1)
        #expect(fixture.registry.counterValue(MessagingMetrics.breakerTransitions, state + [(MessagingMetrics.state, "closed")]) == 0)
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next() == .failedOver(from: "primary", to: "secondary"))
        guard case .breakerTransition(let transition)? = await iterator.next() else {
            Issue.record("expected the breaker's transition after the failover")
            return
        }
        #expect(transition.breaker == "primary" && transition.to == .open)
        await fixture.shutdown()
    }

    @Test("the caller's traceparent is injected on publish and survives retries and failover")
    func traceSurvivesRetryAndFailover() async throws {
        let fixture = try await ObservedFixture()
        let producer = fixture.producer()
        let trace = try #require(sampleTrace)
        fixture.brokers[0].inject(.failPublishes(count: 2, retriable: true))
        try await TraceContext.$current.withValue(trace) {
            _ = try await producer.publish(Envelope(topic: "orders", text: "retried", id: "retried"))
            fixture.brokers[0].inject(.failPublishes(count: 3, retriable: true))
            _ = try await producer.publish(Envelope(topic: "orders", text: "failed-over", id: "failed-over"))
        }
        let onPrimary = try await drain(fixture.transports[0], topic: "orders", count: 1)
        let onSecondary = try await drain(fixture.transports[1], topic: "orders", count: 1)
        #expect(onPrimary.map(\.id) == ["retried"])
        #expect(onSecondary.map(\.id) == ["failed-over"])
        for envelope in onPrimary + onSecondary {
            #expect(envelope.headers["traceparent"] == trace.traceparent)
            #expect(envelope.headers["tracestate"] == trace.tracestate)
        }
        await fixture.shutdown()
    }

    @Test("a traceparent survives the durable spool and the relay")
    func traceSurvivesSpool() async throws {
        let file = TemporaryFile()
        defer { file.remove() }
        let fixture = try await ObservedFixture(names: ["only"])
        let spool = try await SQLiteSpool.open(path: file.path, clock: fixture.clock)
        let producer = fixture.producer(maxAttempts: 1, spool: spool)
        let trace = try #require(sampleTrace)
        fixture.brokers[0].inject(.down)
        let receipt = try await TraceContext.$current.withValue(trace) {
            try await producer.publish(Envelope(topic: "orders", text: "spooled", id: "spooled"))
        }
        #expect(receipt.isSpooled)
        let advancing = autoAdvance(fixture.clock)
        let relay = Task { try await producer.run() }
        fixture.brokers[0].inject(.up)
        let relayed = try await drain(fixture.transports[0], topic: "orders", count: 1)
        #expect(relayed.first?.headers["traceparent"] == trace.traceparent)
        #expect(relayed.first?.headers["tracestate"] == trace.tracestate)
        await producer.shutdown()
        try await relay.value
        advancing.cancel()
        await spool.close()
        await fixture.shutdown()
    }

    @Test("a message that already carries a traceparent keeps it; without a caller's context nothing is added")
    func existingTraceIsKept() async throws {
        let fixture = try await ObservedFixture(names: ["only"])
        let producer = fixture.producer()
        let trace = try #require(sampleTrace)
        let own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        try await TraceContext.$current.withValue(trace) {
            _ = try await producer.publish(Envelope(topic: "orders", text: "own", id: "own", headers: ["traceparent": own]))
        }
        _ = try await producer.publish(Envelope(topic: "orders", text: "none", id: "none"))
        let envelopes = try await drain(fixture.transports[0], topic: "orders", count: 2)
        #expect(envelopes.map(\.id) == ["own", "none"])
        #expect(envelopes[0].headers["traceparent"] == own)
        #expect(envelopes[1].headers["traceparent"] == nil)
        await fixture.shutdown()
    }
}
