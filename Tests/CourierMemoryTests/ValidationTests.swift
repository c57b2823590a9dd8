import Courier
import CourierMemory
import Testing

@Suite("Memory transport: oversized and malformed input", .timeLimit(.minutes(1)))
struct ValidationTests {
    @Test func oversizedPayloadIsRefusedAndTheTransportKeepsWorking() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(maxMessageBytes: 16))
        #expect(fixture.transport.capabilities.maxMessageBytes == 16)

        let tooBig = Envelope(topic: "orders", payload: Array(repeating: 7, count: 17), id: "big")
        let error = await fixture.publishError(tooBig)
        #expect(error?.code == .messageTooLarge)
        #expect(error?.isRetriable == false)
        #expect(error?.transport == fixture.transport.name)
        #expect(error?.message.contains("17 payload bytes") == true)
        #expect(error?.message.contains("at most 16") == true)
        #expect(fixture.harness.record.published.isEmpty)

        let fits = Envelope(topic: "orders", payload: Array(repeating: 7, count: 16), id: "fits")
        let confirmation = try await fixture.transport.publish(fits)
        #expect(confirmation.messageID == "fits")
        #expect(confirmation.offset == 0)
    }

    @Test(arguments: [
        (Envelope(topic: "orders", payload: [1], id: "p10", priority: 10), "priority 10"),
        (Envelope(topic: "orders", payload: [1], id: "p255", priority: 255), "priority 255"),
        (Envelope(topic: "", payload: [1], id: "no-topic"), "empty topic"),
        (Envelope(topic: "orders", payload: [1], id: ""), "empty id"),
        (Envelope(topic: "orders", payload: [1], id: "no-key", idempotencyKey: ""), "empty idempotency key"),
    ])
    func malformedEnvelopeIsInvalidMessage(envelope: Envelope, problem: String) async throws {
        let fixture = try await MemoryFixture()
        let error = await fixture.publishError(envelope)
        #expect(error?.code == .invalidMessage)
        #expect(error?.message.contains(problem) == true, "message: \(error?.message ?? "none")")
        #expect(error?.isRetriable == false)
        #expect(fixture.harness.record.published.isEmpty)

        // Nothing was stored and the transport still works.
        #expect(try await fixture.transport.publish(.text("ok")).offset == 0)
    }

    @Test func highestPriorityIsAccepted() async throws {
        let fixture = try await MemoryFixture()
        let confirmation = try await fixture.transport.publish(.text("top", priority: Envelope.maxPriority))
        #expect(confirmation.messageID == "top")
    }

    @Test(arguments: [
        (Subscription(topic: "", group: "g"), "topic is empty"),
        (Subscription(topic: "orders", group: ""), "group is empty"),
        (Subscription(topic: "orders", group: "g", prefetch: 0), "prefetch is 0"),
    ])
    func invalidSubscriptionIsRefused(subscription: Subscription, problem: String) async throws {
        let fixture = try await MemoryFixture()
        let error = await courierError { _ = try await fixture.transport.subscribe(subscription) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains(problem) == true, "message: \(error?.message ?? "none")")
        #expect(error?.transport == fixture.transport.name)
    }
}
