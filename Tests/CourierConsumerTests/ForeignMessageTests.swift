import Courier
import CourierMemory
import Testing

@Suite("consumer: a message without any Courier headers", .timeLimit(.minutes(1)))
struct ForeignMessageTests {
    static let foreignHeaders = ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "x-legacy-type": "OrderPlaced"]

    /// What another client would have sent: no courier-* header at all.
    static func foreign(id: String) -> Envelope {
        Envelope(topic: "jobs", wireHeaders: foreignHeaders, payload: Array("{\"order\":7}".utf8), fallbackID: id)
    }

    @Test("is consumed with its headers as they came and zero redeliveries")
    func consumed() async throws {
        let fixture = try await ConsumerFixture()
        let seen = Probe<[IncomingMessage]>([])
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers")
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            seen.update { $0.append(message) }
        }
        let running = RunningConsumer(consumer)
        let envelope = Self.foreign(id: "memory:jobs:0")
        #expect(envelope.headers.keys.allSatisfy { !CourierHeader.isReserved($0) })
        _ = try await fixture.transport.publish(envelope)
        try await fixture.harness.waitForAcks(1, topic: "jobs")
        await running.stop()
        let message = try #require(seen.value.first)
        #expect(seen.value.count == 1)
        #expect(message.envelope.id == "memory:jobs:0")
        #expect(message.envelope.idempotencyKey == "memory:jobs:0")
        #expect(message.envelope.headers == Self.foreignHeaders)
        #expect(message.redeliveries == 0)
        #expect(message.attempt == 1)
        #expect(consumer.statistics.consumed == 1)
    }

    @Test("fails, is redelivered with courier-attempt added, and is dead-lettered with its foreign headers kept")
    func redeliveredAndDeadLettered() async throws {
        let fixture = try await ConsumerFixture()
        let store = MemoryIdempotencyStore(clock: fixture.clock)
        let seen = Probe<[IncomingMessage]>([])
        let configuration = ConsumerConfiguration(
            topic: "jobs", group: "workers", guarantee: .exactlyOnceEffects,
            recoverability: .standard(immediateRetries: 0, delays: [.seconds(1)])
        )
        let consumer = try Consumer(
            transports: [fixture.transport], configuration: configuration, idempotencyStore: store, clock: fixture.clock
        ) { message in
            seen.update { $0.append(message) }
            throw TestFailure()
        }
        let running = RunningConsumer(consumer)
        _ = try await fixture.transport.publish(Self.foreign(id: "legacy-1"))
        try await fixture.harness.waitUntil("redelivery scheduled") { !$0.redeliveries(topic: "jobs").isEmpty }
        await fixture.clock.waitForSleepers()
        fixture.clock.advance(by: .seconds(1))
        let record = try await fixture.harness.waitUntil("dead-lettered") { $0.published.contains { $0.topic == "jobs.dlq" } }
        try await fixture.harness.waitForAcks(1, topic: "jobs")
        await running.stop()
        #expect(seen.value.map(\.redeliveries) == [0, 1])
        let bookkeeping = [CourierHeader.attempt: "1", CourierHeader.failures: "1", CourierHeader.firstFailedAt: "2027-01-15T08:00:00Z"]
        #expect(seen.value.last?.envelope.headers == Self.foreignHeaders.merging(bookkeeping) { $1 })
        let letter = try #require(record.published.first { $0.topic == "jobs.dlq" })
        #expect(letter.payload == Array("{\"order\":7}".utf8))
        #expect(letter.headers["traceparent"] == Self.foreignHeaders["traceparent"])
        #expect(letter.headers["x-legacy-type"] == "OrderPlaced")
        #expect(letter.headers[CourierHeader.faultAttempts] == "2")
    }
}
