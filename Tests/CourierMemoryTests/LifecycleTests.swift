import Courier
import CourierMemory
import Testing

@Suite("Memory transport: lifecycle", .timeLimit(.minutes(1)))
struct LifecycleTests {
    @Test func publishAndSubscribeBeforeStartThrowNotStarted() async throws {
        let fixture = try await MemoryFixture(start: false)

        let publishError = await fixture.publishError(.text("m1"))
        #expect(publishError?.code == .notStarted)
        #expect(publishError?.transport == fixture.transport.name)
        #expect(publishError?.message.contains("start()") == true)

        let subscribeError = await courierError { _ = try await fixture.subscribe() }
        #expect(subscribeError?.code == .notStarted)
        #expect(fixture.harness.record.published.isEmpty)

        try await fixture.transport.start()
        try await fixture.transport.start() // idempotent
        try await fixture.publish("m1")
        #expect(fixture.harness.record.published.map(\.id) == ["m1"])
    }

    @Test func everythingAfterShutdownThrowsClosed() async throws {
        let fixture = try await MemoryFixture()
        await fixture.transport.shutdown()
        await fixture.transport.shutdown() // idempotent
        await fixture.transport.waitUntilShutdown()

        let publishError = await fixture.publishError(.text("m1"))
        #expect(publishError?.code == .closed)
        #expect(publishError?.isRetriable == false)
        let subscribeError = await courierError { _ = try await fixture.subscribe() }
        #expect(subscribeError?.code == .closed)
        let startError = await courierError { try await fixture.transport.start() }
        #expect(startError?.code == .closed)
        #expect(fixture.harness.record.published.isEmpty)
    }

    @Test func shutdownEndsOpenStreamsNormallyAndReturnsUnsettled() async throws {
        let fixture = try await MemoryFixture()
        let stream = try await fixture.subscribe(group: "g")
        var deliveries = stream.makeAsyncIterator()
        try await fixture.publish("m1")
        let held = try await deliveries.take()

        await fixture.transport.shutdown()

        // The stream ends without an error, and the unsettled delivery went back to its group.
        #expect(try await deliveries.next() == nil)
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
        let settleError = await courierError { try await held.ack() }
        #expect(settleError?.code == .invalidSettlement)

        let next = try await fixture.secondTransport(name: "next")
        var resumed = try await next.subscribe(Subscription(topic: "orders", group: "g")).makeAsyncIterator()
        let again = try await resumed.take()
        #expect(again.envelope.id == "m1")
        #expect(again.deliveryCount == 2)
    }

    @Test func shutdownClosesOnlyItsOwnSubscriptions() async throws {
        let fixture = try await MemoryFixture()
        let other = try await fixture.secondTransport(name: "other")
        let mine = ackingConsumer(try await fixture.subscribe(group: "mine"))
        let theirs = try await other.subscribe(Subscription(topic: "orders", group: "theirs"))
        var theirDeliveries = theirs.makeAsyncIterator()

        await fixture.transport.shutdown()
        let mineResult = await mine.value
        #expect(mineResult.error == nil)

        _ = try await other.publish(.text("m1"))
        let delivery = try await theirDeliveries.take()
        #expect(delivery.envelope.id == "m1")
        try await delivery.ack()
    }

    @Test func runServesUntilShutdownFromAnotherTask() async throws {
        let fixture = try await MemoryFixture(start: false)
        let returned = Flag()
        let runner = Task {
            try await fixture.transport.run()
            returned.set()
        }
        // run() starts the transport; subscribe succeeds once it has.
        var stream: DeliveryStream?
        for _ in 0..<100_000 where stream == nil {
            stream = try? await fixture.subscribe(group: "g")
            if stream == nil { await Task.yield() }
        }
        let consumer = ackingConsumer(try #require(stream))
        try await fixture.publish("m1")
        try await fixture.harness.waitForAcks(1)
        #expect(!returned.isSet)

        await Task { await fixture.transport.shutdown() }.value

        try await runner.value
        #expect(returned.isSet)
        let result = await consumer.value
        #expect(result.ids == ["m1"])
        #expect(result.error == nil)
    }

    @Test func runAfterShutdownThrowsClosed() async throws {
        let fixture = try await MemoryFixture()
        await fixture.transport.shutdown()
        let error = await courierError { try await fixture.transport.run() }
        #expect(error?.code == .closed)
    }

    @Test func cancellingRunShutsTheTransportDown() async throws {
        let fixture = try await MemoryFixture()
        let consumer = ackingConsumer(try await fixture.subscribe(group: "g"))
        let runner = Task { try await fixture.transport.run() }

        runner.cancel()
        try await runner.value
        await fixture.transport.waitUntilShutdown()

        let result = await consumer.value
        #expect(result.error == nil)
        let error = await fixture.publishError(.text("late"))
        #expect(error?.code == .closed)
    }
}
