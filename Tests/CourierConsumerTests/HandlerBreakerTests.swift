import Courier
import CourierMemory
import Synchronization
import Testing

@Suite("consumer: the handler breaker pauses and resumes consumption", .timeLimit(.minutes(1)))
struct HandlerBreakerTests {
    @Test("a failing downstream opens the breaker: no handler calls, nothing dead-lettered; half-open then closed resumes it")
    func pauseAndResume() async throws {
        let fixture = try await ConsumerFixture()
        let healthy = Mutex(false)
        let calls = Probe<[String]>([])
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers", concurrency: 1,
            // Without the breaker this would retry for ever; with it, the outage costs no dead letters.
            recoverability: .standard(immediateRetries: 1_000, immediateBackoff: .zero, delays: []),
            handlerBreaker: CircuitBreakerConfiguration(
                window: .count(4), failureRateThreshold: 50, minimumCalls: 4, openDuration: .seconds(1), permittedCallsInHalfOpen: 2
            )
        )
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            calls.append(message.envelope.id)
            if !healthy.withLock({ $0 }) { throw TestFailure("payments service is down") }
        }
        let events = Probe.events(of: consumer)
        let breaker = try #require(consumer.handlerBreaker)
        let running = RunningConsumer(consumer)
        for index in 1...5 { try await fixture.publish("m\(index)") }

        try await events.waitUntil("paused") { $0.contains { if case .paused = $0 { true } else { false } } }
        await fixture.clock.waitForSleepers()
        #expect(calls.value == ["m1", "m1", "m1", "m1"])
        #expect(breaker.currentState == .open)
        #expect(consumer.statistics.pauses == 1)

        // Most of the open duration passes: the handler is not called, nothing is pulled or dead-lettered.
        await fixture.clock.advance(by: .milliseconds(900), inStepsOf: .milliseconds(100))
        await fixture.clock.waitForSleepers()
        #expect(calls.value.count == 4)
        #expect(fixture.published(on: "jobs.dlq").isEmpty)
        #expect(fixture.harness.record.redeliveries().isEmpty)
        #expect(fixture.harness.record.settlements(.ack).isEmpty)

        // The downstream recovers; the open duration ends; trial calls succeed and the breaker closes.
        healthy.withLock { $0 = true }
        fixture.clock.advance(by: .milliseconds(100))
        try await fixture.harness.waitForAcks(5, topic: "jobs")
        await running.stop()
        #expect(calls.value == ["m1", "m1", "m1", "m1", "m1", "m2", "m3", "m4", "m5"])
        #expect(breaker.currentState == .closed)
        #expect(events.value.contains(.resumed))
        #expect(consumer.statistics.pauses == 1)
        #expect(consumer.statistics.consumed == 5)
        #expect(consumer.statistics.deadLettered == 0)
    }
}
