import Courier
import CourierMemory
import Testing

@Suite("Memory faults: held and delayed confirms", .timeLimit(.minutes(1)))
struct ConfirmFaultTests {
    @Test func heldConfirmsReturnOnlyOnRelease() async throws {
        let fixture = try await MemoryFixture()
        var deliveries = try await fixture.subscribe().makeAsyncIterator()
        fixture.broker.inject(.holdConfirms)
        let returned = Flag()
        let publisher = Task {
            let confirmation = try await fixture.transport.publish(.text("m1"))
            returned.set()
            return confirmation
        }

        // Stored and delivered, but not confirmed.
        try await fixture.harness.waitUntil("m1 stored") { $0.published.map(\.id) == ["m1"] }
        let delivery = try await deliveries.take()
        #expect(delivery.envelope.id == "m1")
        try await delivery.ack()
        #expect(!returned.isSet)

        fixture.broker.inject(.releaseConfirms)
        let confirmation = try await publisher.value
        #expect(returned.isSet)
        #expect(confirmation.messageID == "m1")
        #expect(confirmation.offset == 0)

        // Released means released: the next publish confirms at once.
        #expect(try await fixture.transport.publish(.text("m2")).offset == 1)
    }

    @Test func heldConfirmsAreReleasedInOrder() async throws {
        let fixture = try await MemoryFixture()
        fixture.broker.inject(.holdConfirms)
        var publishers: [Task<PublishConfirmation, any Error>] = []
        for index in 1...3 {
            publishers.append(Task { try await fixture.transport.publish(.text("m\(index)")) })
            try await fixture.harness.waitUntil("m\(index) stored") { $0.published.count == index }
        }
        fixture.broker.inject(.releaseConfirms)
        var offsets: [Int64?] = []
        for publisher in publishers { offsets.append(try await publisher.value.offset) }
        #expect(offsets == [0, 1, 2])
    }

    @Test func downWhileHeldIsAnUnknownOutcome() async throws {
        let fixture = try await MemoryFixture()
        fixture.broker.inject(.holdConfirms)
        let publisher = Task { try await fixture.transport.publish(.text("m1")) }
        try await fixture.harness.waitUntil("m1 stored") { $0.published.count == 1 }

        fixture.broker.inject(.down)

        let error = await courierError { _ = try await publisher.value }
        #expect(error?.code == .outcomeUnknown)
        #expect(error?.mayDuplicate == true)
        #expect(error?.isRetriable == true)
        #expect(error?.transport == fixture.transport.name)

        // It was stored after all: after up it is delivered, which is why a resend may duplicate it.
        fixture.broker.inject(.up)
        fixture.broker.inject(.releaseConfirms)
        var deliveries = try await fixture.subscribe().makeAsyncIterator()
        #expect(try await deliveries.take().envelope.id == "m1")
    }

    @Test func delayedConfirmsWaitForTheVirtualClock() async throws {
        let clock = VirtualClock()
        let fixture = try await MemoryFixture(clock: clock)
        var deliveries = try await fixture.subscribe().makeAsyncIterator()
        fixture.broker.inject(.delayConfirms(.seconds(2)))
        let returned = Flag()
        let publisher = Task {
            let confirmation = try await fixture.transport.publish(.text("m1"))
            returned.set()
            return confirmation
        }

        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == ClockInstant(offset: .seconds(2)))
        // Stored (and delivered) at once; only the confirm waits.
        #expect(fixture.harness.record.published.map(\.id) == ["m1"])
        #expect(try await deliveries.take().envelope.id == "m1")

        clock.advance(by: .milliseconds(1_999))
        #expect(clock.sleeperCount == 1)
        #expect(!returned.isSet)

        clock.advance(by: .milliseconds(1))
        let confirmation = try await publisher.value
        #expect(confirmation.offset == 0)
        #expect(returned.isSet)

        fixture.broker.inject(.delayConfirms(.zero))
        #expect(try await fixture.transport.publish(.text("m2")).offset == 1)
        #expect(clock.sleeperCount == 0)
    }

    @Test func anOutageDuringADelayedConfirmIsAnUnknownOutcome() async throws {
        let clock = VirtualClock()
        let fixture = try await MemoryFixture(clock: clock)
        fixture.broker.inject(.delayConfirms(.seconds(1)))
        let publisher = Task { try await fixture.transport.publish(.text("m1")) }
        await clock.waitForSleepers(1)

        fixture.broker.inject(.down)
        fixture.broker.inject(.up)
        clock.advance(by: .seconds(1))

        let error = await courierError { _ = try await publisher.value }
        #expect(error?.code == .outcomeUnknown)
        #expect(error?.mayDuplicate == true)
        #expect(error?.transport == fixture.transport.name)
    }
}
