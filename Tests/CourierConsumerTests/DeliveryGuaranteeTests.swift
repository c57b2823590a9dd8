import Courier
import CourierMemory
import Testing

@Suite("consumer: delivery guarantees", .timeLimit(.minutes(1)))
struct DeliveryGuaranteeTests {
    @Test("exactly-once effects without an idempotency store is refused with an error naming the field and the fix")
    func exactlyOnceNeedsAStore() async throws {
        let fixture = try await ConsumerFixture()
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", guarantee: .exactlyOnceEffects)
        let error = #expect(throws: CourierError.self) {
            try Consumer(transports: [fixture.transport], configuration: configuration) { _ in }
        }
        #expect(error?.code == .invalidConfiguration)
        let text = "\(error.map { String(describing: $0) } ?? "")"
        #expect(text.contains("consumer.guarantee"))
        #expect(text.contains("idempotency store"))
        #expect(text.contains("MemoryIdempotencyStore"))
    }

    @Test("at-most-once acks before the handler runs; a failure is dropped by choice and counted")
    func atMostOnce() async throws {
        let fixture = try await ConsumerFixture()
        let ackedBeforeRun = Probe<[String]>([])
        let configuration = ConsumerConfiguration(topic: "jobs", group: "workers", guarantee: .atMostOnce)
        let consumer = try Consumer(transports: [fixture.transport], configuration: configuration, clock: fixture.clock) { message in
            let acked = fixture.harness.record.ackedIDs(topic: "jobs").contains(message.envelope.id)
            ackedBeforeRun.append("\(message.envelope.id):\(acked)")
            if message.envelope.id == "fails" { throw TestFailure() }
        }
        let running = RunningConsumer(consumer)
        try await fixture.publish("fails")
        try await fixture.publish("works")
        try await ackedBeforeRun.waitUntil("both handled") { $0.count == 2 }
        await running.stop()
        #expect(ackedBeforeRun.value.sorted() == ["fails:true", "works:true"])
        #expect(consumer.statistics.lostByChoice == 1)
        #expect(consumer.statistics.consumed == 1)
        #expect(consumer.statistics.deadLettered == 0)
        let record = fixture.harness.record
        #expect(record.redeliveries().isEmpty)
        #expect(record.settlements(.requeue).isEmpty)
        #expect(fixture.published(on: "jobs.dlq").isEmpty)
        #expect(fixture.deliveries(of: "fails").count == 1)
    }
}
