import Courier
import CourierMemory
import Testing

@Suite("consumer: delayed redelivery timing and attempts across a restart", .timeLimit(.minutes(1)))
struct DelayedRedeliveryTests {
    @Test("each redelivery waits its whole delay on the clock, never less")
    func notBeforeTheDelay() async throws {
        let fixture = try await ConsumerFixture()
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers",
            recoverability: .standard(immediateRetries: 0, delays: [.seconds(1), .seconds(10)])
        )
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            if message.redeliveries < 2 { throw TestFailure() }
        }
        let running = RunningConsumer(consumer)
        try await fixture.publish("m")
        for (index, delay) in [Duration.seconds(1), .seconds(10)].enumerated() {
            let deliveriesSoFar = index + 1
            try await fixture.harness.waitUntil("redelivery \(deliveriesSoFar) scheduled") { $0.redeliveries(topic: "jobs").count == deliveriesSoFar }
            await fixture.clock.waitForSleepers()
            let scheduledAt = fixture.clock.now()
            fixture.clock.advance(by: delay - .milliseconds(1))
            // Nothing is due yet: the broker's timer still sleeps and the message has not come back.
            #expect(fixture.clock.sleeperCount == 1)
            #expect(fixture.deliveries(of: "m").count == deliveriesSoFar)
            fixture.clock.advance(by: .milliseconds(1))
            try await fixture.harness.waitUntil("delivery \(deliveriesSoFar + 1)") { $0.deliveries.count == deliveriesSoFar + 1 }
            #expect(fixture.clock.now() - scheduledAt == delay)
        }
        try await fixture.harness.waitForAcks(1, topic: "jobs")
        await running.stop()
        #expect(fixture.deliveries(of: "m").map { $0.envelope.headers[CourierHeader.attempt] } == [nil, "1", "2"])
    }

    @Test("attempts survive a consumer restart: another member of the group continues the count and dead-letters with the total")
    func attemptsSurviveRestart() async throws {
        let fixture = try await ConsumerFixture()
        let runs = Probe<[String]>([])
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers",
            recoverability: .standard(immediateRetries: 0, delays: [.seconds(10), .seconds(20)])
        )
        let first = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            runs.append("A:\(message.redeliveries)")
            throw TestFailure()
        }
        let runningFirst = RunningConsumer(first)
        try await fixture.publish("m")
        try await fixture.harness.waitUntil("A redelivers later") { $0.redeliveries(topic: "jobs").count == 1 }
        await runningFirst.stop()

        // B: same group, a fresh process as far as Courier knows (no state shared with A).
        let second = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            runs.append("B:\(message.redeliveries)")
            throw TestFailure()
        }
        let runningSecond = RunningConsumer(second)
        await fixture.clock.waitForSleepers()
        fixture.clock.advance(by: .seconds(10))
        try await fixture.harness.waitUntil("B redelivers later") { $0.redeliveries(topic: "jobs").count == 2 }
        await fixture.clock.waitForSleepers()
        fixture.clock.advance(by: .seconds(20))
        let record = try await fixture.harness.waitUntil("B dead-letters") {
            $0.published.contains { $0.topic == "jobs.dlq" } && $0.settlements(.ack, topic: "jobs").count == 1
        }
        await runningSecond.stop()
        #expect(runs.value == ["A:0", "B:1", "B:2"])
        let letter = try #require(record.published.first { $0.topic == "jobs.dlq" })
        #expect(letter.headers[CourierHeader.faultAttempts] == "3")
        #expect(letter.headers[CourierHeader.faultReason] == "retries-exhausted")
        #expect(first.statistics.redelivered == 1)
        #expect(second.statistics.redelivered == 1)
        #expect(second.statistics.deadLettered == 1)
    }
}
