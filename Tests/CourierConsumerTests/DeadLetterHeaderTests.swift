import Courier
import CourierMemory
import Foundation
import Testing

@Suite("consumer: dead-letter headers and the byte budget", .timeLimit(.minutes(1)))
struct DeadLetterHeaderTests {
    struct LongError: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a consumer whose handler throws `error` (unrecoverable, so straight to the dead-letter topic)
    /// for the published `envelope`, and returns the dead letter.
    private func deadLetter(
        _ envelope: Envelope,
        error: any Error & Sendable,
        fixture: ConsumerFixture,
        deadLetterTopic: String? = nil,
        budget: Int = 4096
    ) async throws -> Envelope {
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers",
            recoverability: .standard(immediateRetries: 0, delays: []) { _ in true },
            deadLetterTopic: deadLetterTopic, faultMessageBudget: budget
        )
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { _ in
            throw error
        }
        let running = RunningConsumer(consumer)
        _ = try await fixture.transport.publish(envelope)
        let topic = deadLetterTopic ?? "jobs.dlq"
        let record = try await fixture.harness.waitUntil("a dead letter and the ack") {
            $0.published.contains { $0.topic == topic } && $0.settlements(.ack, topic: "jobs").count == 1
        }
        await running.stop()
        return try #require(record.published.first { $0.topic == topic })
    }

    @Test("every courier-fault-* header is written; payload, identity and headers are kept unchanged")
    func everyFaultHeader() async throws {
        let fixture = try await ConsumerFixture(transportName: "amqp://courier:s3cret@rabbit.local/orders")
        fixture.clock.advance(by: .seconds(90))
        let original = Envelope(
            topic: "jobs",
            payload: [0x00, 0xFF, 0x10, 0x80],
            id: "order-17",
            idempotencyKey: "order-17-v1",
            headers: ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "x-tenant": "42"],
            contentType: "application/octet-stream",
            timestamp: Date(timeIntervalSince1970: 1_700_000_000),
            correlationID: "corr-9"
        )
        let letter = try await deadLetter(original, error: LongError(description: "card declined"), fixture: fixture)

        #expect(letter.topic == "jobs.dlq")
        #expect(letter.id == original.id)
        #expect(letter.idempotencyKey == original.idempotencyKey)
        #expect(letter.payload == original.payload)
        #expect(letter.contentType == original.contentType)
        #expect(letter.correlationID == original.correlationID)
        #expect(letter.timestamp == original.timestamp)
        #expect(letter.headers.filter { !$0.key.hasPrefix("courier-fault-") } == original.headers)

        let fault = letter.headers.filter { $0.key.hasPrefix("courier-fault-") }
        #expect(fault[CourierHeader.faultReason] == "unrecoverable")
        #expect(fault[CourierHeader.faultErrorType] == String(reflecting: LongError.self))
        #expect(fault[CourierHeader.faultMessage] == "card declined")
        #expect(fault[CourierHeader.faultTopic] == "jobs")
        #expect(fault[CourierHeader.faultOffset] == "0")
        #expect(fault[CourierHeader.faultPartition] == nil, "the memory transport has no partitions")
        #expect(fault[CourierHeader.faultAttempts] == "1")
        #expect(fault[CourierHeader.faultFailedAt] == ISO8601DateFormatter().string(from: fixture.clock.wallClockNow()))
        #expect(fault[CourierHeader.faultFailedAt] == "2027-01-15T08:01:30Z")
        #expect(fault[CourierHeader.faultFirstFailedAt] == "2027-01-15T08:01:30Z", "it failed only once")
        #expect(fault[CourierHeader.faultConsumerGroup] == "workers")
        #expect(fault[CourierHeader.faultHost] == ProcessInfo.processInfo.hostName)
        let transport = try #require(fault[CourierHeader.faultTransport])
        #expect(transport.contains("rabbit.local"))
        #expect(!transport.contains("s3cret"), "the transport name is redacted: \(transport)")
        #expect(Set(fault.keys) == [
            CourierHeader.faultReason, CourierHeader.faultErrorType, CourierHeader.faultMessage, CourierHeader.faultTopic,
            CourierHeader.faultOffset, CourierHeader.faultAttempts, CourierHeader.faultFailedAt, CourierHeader.faultFirstFailedAt,
            CourierHeader.faultConsumerGroup, CourierHeader.faultHost, CourierHeader.faultTransport,
        ])
    }

    @Test("the configured dead-letter topic replaces <topic>.dlq")
    func configuredTopic() async throws {
        let fixture = try await ConsumerFixture()
        let letter = try await deadLetter(
            Envelope(topic: "jobs", text: "x", id: "m"), error: PoisonError(), fixture: fixture, deadLetterTopic: "errors.jobs"
        )
        #expect(letter.topic == "errors.jobs")
        #expect(fixture.published(on: "jobs.dlq").isEmpty)
    }

    @Test(
        "a huge error description is cut within the budget, on a character boundary, and marked",
        arguments: ["€", "👍🏽", "e\u{301}", "a"]
    )
    func truncatedWithinBudget(unit: String) async throws {
        let fixture = try await ConsumerFixture()
        let description = "x" + String(repeating: unit, count: 200_000)
        let budget = 301
        let letter = try await deadLetter(
            Envelope(topic: "jobs", text: "x", id: "m"), error: LongError(description: description), fixture: fixture, budget: budget
        )
        let message = try #require(letter.headers[CourierHeader.faultMessage])
        #expect(message.utf8.count <= budget)
        #expect(message.utf8.count > budget - 14 - unit.utf8.count, "the budget is used, not wasted")
        #expect(message.hasSuffix("…[truncated]"))
        let kept = message.dropLast("…[truncated]".count)
        #expect(kept.first == "x")
        #expect(kept.dropFirst().allSatisfy { String($0) == unit }, "cut on a character boundary")
        // Re-encoding gives the same bytes: no half character.
        #expect(String(decoding: Array(message.utf8), as: UTF8.self) == message)
    }

    @Test("a budget below 64 bytes is raised to 64; a description that fits is kept whole")
    func budgetEdges() {
        #expect(ConsumerConfiguration(topic: "t", group: "g", faultMessageBudget: 1).faultMessageBudget == 64)
        let exact = String(repeating: "é", count: 32)  // 64 bytes
        #expect(DeadLetter.truncate(exact, toBytes: 64) == exact)
        let over = exact + "é"
        let cut = DeadLetter.truncate(over, toBytes: 64)
        #expect(cut.utf8.count <= 64)
        #expect(cut == String(repeating: "é", count: 25) + "…[truncated]")
    }
}
