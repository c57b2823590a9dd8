import Foundation
import Courier
import CourierMemory
import Synchronization
import Testing

@Suite("consumer: each recoverability branch", .timeLimit(.minutes(1)))
struct RecoverabilityPolicyTests {
    @Test("retry now: the handler runs again within the same delivery, after the backoff on the clock")
    func retryNowWithinOneDelivery() async throws {
        let fixture = try await ConsumerFixture()
        let runs = Probe<[String]>([])
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers",
            recoverability: .standard(immediateRetries: 2, immediateBackoff: .milliseconds(50), delays: [])
        )
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            runs.append("\(message.attempt)/\(message.redeliveries)")
            if message.attempt < 3 { throw TestFailure() }
        }
        let running = RunningConsumer(consumer)
        try await fixture.publish("m")
        for expectedRuns in 1...2 {
            await fixture.clock.waitForSleepers()
            // Asleep in the backoff: the next attempt has not run yet.
            #expect(runs.value.count == expectedRuns)
            fixture.clock.advance(by: .milliseconds(50))
        }
        try await fixture.harness.waitForAcks(1, topic: "jobs")
        await running.stop()
        #expect(runs.value == ["1/0", "2/0", "3/0"])
        #expect(fixture.deliveries(of: "m").count == 1)
        #expect(fixture.harness.record.redeliveries().isEmpty)
        #expect(consumer.statistics.retried == 2)
        #expect(consumer.statistics.consumed == 1)
    }

    @Test("redeliver later: the message comes back after the delay with courier-attempt incremented")
    func redeliverLaterIncrementsAttempt() async throws {
        let fixture = try await ConsumerFixture()
        let runs = Probe<[String]>([])
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers",
            recoverability: .standard(immediateRetries: 0, delays: [.seconds(5)])
        )
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            runs.append("\(message.attempt)/\(message.redeliveries)")
            if message.redeliveries == 0 { throw TestFailure() }
        }
        let running = RunningConsumer(consumer)
        try await fixture.publish("m")
        let scheduled = try await fixture.harness.waitUntil("a delayed redelivery") { !$0.redeliveries(topic: "jobs").isEmpty }
        let firstFailure = ISO8601DateFormatter().string(from: fixture.clock.wallClockNow())
        #expect(scheduled.redeliveries().first?.action == .redeliver(after: .seconds(5), headers: [
            CourierHeader.attempt: "1", CourierHeader.failures: "1", CourierHeader.firstFailedAt: firstFailure,
        ]))
        await fixture.clock.waitForSleepers()
        fixture.clock.advance(by: .seconds(5))
        try await fixture.harness.waitForAcks(1, topic: "jobs")
        await running.stop()
        let deliveries = fixture.deliveries(of: "m")
        #expect(deliveries.count == 2)
        #expect(deliveries.first?.envelope.headers[CourierHeader.attempt] == nil)
        #expect(deliveries.last?.envelope.headers[CourierHeader.attempt] == "1")
        #expect(runs.value == ["1/0", "1/1"])
        #expect(consumer.statistics.redelivered == 1)
        #expect(consumer.statistics.consumed == 1)
        #expect(fixture.published(on: "jobs.dlq").isEmpty)
    }

    @Test("dead-letter once the delays are exhausted, reported once at the final outcome")
    func deadLetterAfterDelaysExhausted() async throws {
        let fixture = try await ConsumerFixture()
        let runs = Probe<[String]>([])
        let events = Probe<[ConsumerEvent]>([])
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers",
            recoverability: .standard(immediateRetries: 1, immediateBackoff: .zero, delays: [.seconds(1), .seconds(2)])
        )
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            runs.append("\(message.attempt)/\(message.redeliveries)")
            throw TestFailure()
        }
        consumer.onEvent { event in events.update { $0.append(event) } }
        let running = RunningConsumer(consumer)
        try await fixture.publish("m")
        for (index, delay) in [Duration.seconds(1), .seconds(2)].enumerated() {
            try await fixture.harness.waitUntil("redelivery \(index + 1)") { $0.redeliveries(topic: "jobs").count == index + 1 }
            #expect(events.value.isEmpty, "no fault is reported on a retry")
            await fixture.clock.waitForSleepers()
            fixture.clock.advance(by: delay)
        }
        let record = try await fixture.harness.waitUntil("a dead letter and the ack") {
            $0.published.contains { $0.topic == "jobs.dlq" } && $0.settlements(.ack, topic: "jobs").count == 1
        }
        await running.stop()
        #expect(runs.value == ["1/0", "2/0", "1/1", "2/1", "1/2", "2/2"])
        let letter = try #require(record.published.first { $0.topic == "jobs.dlq" })
        #expect(letter.headers[CourierHeader.faultReason] == "retries-exhausted")
        #expect(letter.headers[CourierHeader.attempt] == "2")
        // Every handler run over all three deliveries.
        #expect(letter.headers[CourierHeader.faultAttempts] == "6")
        #expect(letter.headers[CourierHeader.failures] == "4")
        #expect(letter.headers[CourierHeader.faultFirstFailedAt] == letter.headers[CourierHeader.firstFailedAt])
        #expect(events.value == [.deadLettered(messageID: "m", reason: "retries-exhausted", topic: "jobs.dlq")])
        #expect(consumer.statistics.retried == 3)
        #expect(consumer.statistics.redelivered == 2)
        #expect(consumer.statistics.deadLettered == 1)
        #expect(consumer.statistics.consumed == 0)
    }

    @Test("discard: acked and dropped on purpose, no dead letter, no retry")
    func discard() async throws {
        let fixture = try await ConsumerFixture()
        let runs = Probe<[String]>([])
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers",
            recoverability: RecoverabilityPolicy { _ in .discard(reason: "stale") }
        )
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            runs.append(message.envelope.id)
            throw TestFailure()
        }
        let running = RunningConsumer(consumer)
        try await fixture.publish("m")
        try await fixture.harness.waitForAcks(1, topic: "jobs")
        await running.stop()
        #expect(runs.value == ["m"])
        #expect(consumer.statistics.discarded == 1)
        #expect(consumer.statistics.deadLettered == 0)
        #expect(fixture.published(on: "jobs.dlq").isEmpty)
        #expect(fixture.harness.record.redeliveries().isEmpty)
    }

    @Test(
        "unrecoverable and undecodable errors go straight to the dead-letter topic, without retries",
        arguments: ["unrecoverable", "undecodable", "marked"]
    )
    func unrecoverableGoesStraightToDeadLetter(kind: String) async throws {
        let fixture = try await ConsumerFixture()
        let runs = Probe<[String]>([])
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers",
            recoverability: .standard(immediateRetries: 3, immediateBackoff: .zero, delays: [.seconds(1)]) { $0 is TestFailure }
        )
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            runs.append(message.envelope.id)
            switch kind {
            case "unrecoverable": throw PoisonError()
            case "undecodable": throw UndecodableMessageError("payload is not JSON")
            default: throw TestFailure("marked unrecoverable by isUnrecoverable")
            }
        }
        let running = RunningConsumer(consumer)
        try await fixture.publish("m")
        let record = try await fixture.harness.waitUntil("a dead letter and the ack") {
            $0.published.contains { $0.topic == "jobs.dlq" } && $0.settlements(.ack, topic: "jobs").count == 1
        }
        await running.stop()
        let letter = try #require(record.published.first { $0.topic == "jobs.dlq" })
        #expect(letter.headers[CourierHeader.faultReason] == (kind == "undecodable" ? "undecodable" : "unrecoverable"))
        #expect(letter.headers[CourierHeader.faultAttempts] == "1")
        #expect(runs.value == ["m"])
        #expect(record.redeliveries().isEmpty)
        #expect(consumer.statistics.retried == 0)
        #expect(consumer.statistics.deadLettered == 1)
    }

    @Test("a user policy wrapped around the default decides first and falls back to it")
    func wrappedPolicy() async throws {
        struct Gone: Error {}
        let fixture = try await ConsumerFixture()
        let runs = Probe<[String]>([])
        let seen = Mutex<[Int]>([])
        let policy = RecoverabilityPolicy.standard(immediateRetries: 1, immediateBackoff: .zero, delays: []).wrapped { context in
            seen.withLock { $0.append(context.immediateAttempts) }
            if context.error is Gone { return .deadLetter(reason: "customer-gone") }
            return nil
        }
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", recoverability: policy)
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            runs.append("\(message.envelope.id)#\(message.attempt)")
            if message.envelope.id == "gone" { throw Gone() }
            if message.attempt == 1 { throw TestFailure() }
        }
        let running = RunningConsumer(consumer)
        try await fixture.publish("gone")
        try await fixture.publish("flaky")
        let record = try await fixture.harness.waitUntil("both settled") {
            $0.settlements(.ack, topic: "jobs").count == 2 && $0.published.contains { $0.topic == "jobs.dlq" }
        }
        await running.stop()
        let letter = try #require(record.published.first { $0.topic == "jobs.dlq" })
        #expect(letter.id == "gone")
        #expect(letter.headers[CourierHeader.faultReason] == "customer-gone")
        // The override returned nil for the flaky message, so the default retried it at once.
        #expect(runs.value.sorted() == ["flaky#1", "flaky#2", "gone#1"])
        #expect(seen.withLock { $0 }.sorted() == [1, 1])
        #expect(consumer.statistics.consumed == 1)
        #expect(consumer.statistics.retried == 1)
        #expect(consumer.statistics.deadLettered == 1)
    }
}
