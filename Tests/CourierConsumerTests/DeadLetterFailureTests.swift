import Courier
import CourierMemory
import Synchronization
import Testing

@Suite("consumer: a failed dead-letter publish never loses the original", .timeLimit(.minutes(1)))
struct DeadLetterFailureTests {
    /// The broker's events as one ordered list of short lines ("published jobs.dlq", "ack jobs" ...).
    private static func timeline(of broker: MemoryBroker) -> (Probe<[String]>, ObservationToken) {
        let lines = Probe<[String]>([])
        let token = broker.observe { event in
            switch event {
            case .published(let envelope, _): lines.append("published \(envelope.topic)")
            case .settled(let envelope, _, let action, _):
                if case .redeliver = action { lines.append("redeliver \(envelope.topic)") } else { lines.append("\(action) \(envelope.topic)") }
            default: break
            }
        }
        return (lines, token)
    }

    @Test("the dead-letter publish fails on the origin broker: the original is not acked, comes back, and is dead-lettered then")
    func originBrokerFailsThePublish() async throws {
        let fixture = try await ConsumerFixture()
        let (timeline, token) = Self.timeline(of: fixture.broker)
        let runs = Probe<[String]>([])
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers", recoverability: .standard(), resubscribeDelay: .seconds(1)
        )
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            runs.append(message.envelope.id)
            // The first time, the next publish (the dead letter) fails.
            if runs.value.count == 1 { fixture.broker.inject(.failPublishes(count: 1, retriable: true)) }
            throw PoisonError()
        }
        let running = RunningConsumer(consumer)
        try await fixture.publish("m")
        try await timeline.waitUntil("the original handed back") { $0.contains("redeliver jobs") }
        #expect(timeline.value == ["published jobs", "redeliver jobs"], "no dead letter stored, the original not acked")
        #expect(consumer.statistics.deadLettered == 0)
        #expect(fixture.broker.retainedCount(topic: "jobs") == 1)

        await fixture.clock.waitForSleepers()
        fixture.clock.advance(by: .seconds(1))
        try await timeline.waitUntil("the dead letter and then the ack") { $0.contains("ack jobs") }
        await running.stop()
        #expect(timeline.value == ["published jobs", "redeliver jobs", "published jobs.dlq", "ack jobs"])
        #expect(runs.value == ["m", "m"])
        #expect(fixture.published(on: "jobs.dlq").map(\.id) == ["m"])
        #expect(consumer.statistics.deadLettered == 1)
        await token.cancel()
    }

    @Test("a dead-letter producer whose transports are all down and which has no spool: the original comes back until the publish goes through")
    func deadLetterProducerDown() async throws {
        let fixture = try await ConsumerFixture()
        let (timeline, token) = Self.timeline(of: fixture.broker)
        let errorsBroker = MemoryBroker(name: "errors-\(Envelope.makeID())", clock: fixture.clock)
        let errorsTransport = MemoryTransport(broker: errorsBroker, name: "errors")
        try await errorsTransport.start()
        let errorsHarness = MemoryTestHarness(broker: errorsBroker)
        errorsBroker.inject(.down)
        let producer = Producer(
            transports: [errorsTransport], configuration: ProducerConfiguration(retry: .never), clock: fixture.clock
        )
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", resubscribeDelay: .seconds(1))
        let consumer = try Consumer(
            transports: [fixture.transport], configuration: configuration, deadLetterProducer: producer, clock: fixture.clock
        ) { _ in throw UndecodableMessageError("not JSON") }
        let running = RunningConsumer(consumer)
        try await fixture.publish("m")

        for round in 1...2 {
            try await timeline.waitUntil("hand-back \(round)") { $0.filter { $0 == "redeliver jobs" }.count == round }
            #expect(!timeline.value.contains("ack jobs"))
            #expect(consumer.statistics.deadLettered == 0)
            await fixture.clock.waitForSleepers()
            if round == 2 { errorsBroker.inject(.up) }
            fixture.clock.advance(by: .seconds(1))
        }
        try await timeline.waitUntil("the ack") { $0.contains("ack jobs") }
        await running.stop()
        let letters = errorsHarness.record.published
        #expect(letters.map(\.id) == ["m"])
        #expect(letters.first?.topic == "jobs.dlq")
        #expect(letters.first?.headers[CourierHeader.faultReason] == "undecodable")
        #expect(fixture.published(on: "jobs.dlq").isEmpty, "dead letters go through the producer, not the origin")
        #expect(consumer.statistics.deadLettered == 1)
        await token.cancel()
        await errorsTransport.shutdown()
    }
}
