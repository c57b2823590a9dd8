import Courier
import CourierMemory
import Testing

@Suite("Memory faults: timed scripts on the virtual clock", .timeLimit(.minutes(1)))
struct FaultScriptTests {
    @Test func scriptAppliesEachFaultAtItsVirtualTime() async throws {
        let clock = VirtualClock()
        let fixture = try await MemoryFixture(clock: clock)
        let applied = Locked<[(MemoryFault, ClockInstant)]>([])
        let token = fixture.broker.observe { event in
            if case .fault(let fault) = event { applied.withLock { $0.append((fault, clock.now())) } }
        }
        let script: [(after: Duration, fault: MemoryFault)] = [
            (.seconds(1), .down),
            (.seconds(2), .up),
            (.milliseconds(500), .failPublishes(count: 1, retriable: true)),
        ]
        let runner = Task { try await fixture.broker.run(script: script) }

        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == ClockInstant(offset: .seconds(1)))
        #expect(!fixture.broker.isDown)
        clock.advance(by: .milliseconds(999))
        #expect(!fixture.broker.isDown)

        clock.advance(by: .milliseconds(1))
        try await fixture.harness.waitUntil("down applied") { $0.faults.count == 1 }
        #expect(fixture.broker.isDown)
        #expect(await fixture.publishError(.text("m1"))?.code == .unavailable)

        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == ClockInstant(offset: .seconds(3)))
        clock.advance(by: .seconds(1))
        #expect(fixture.broker.isDown)
        clock.advance(by: .seconds(1))
        try await fixture.harness.waitUntil("up applied") { $0.faults.count == 2 }
        #expect(!fixture.broker.isDown)

        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(500))
        try await runner.value
        #expect(await fixture.publishError(.text("m2"))?.code == .injectedFault)
        try await fixture.publish("m3")

        let timeline = applied.withLock { $0 }
        #expect(timeline.map(\.0) == script.map(\.fault))
        #expect(timeline.map(\.1) == [Duration.seconds(1), .seconds(3), .milliseconds(3_500)].map { ClockInstant(offset: $0) })
        await token.cancel()
    }

    @Test func cancellingTheScriptStopsIt() async throws {
        let clock = VirtualClock()
        let fixture = try await MemoryFixture(clock: clock)
        let runner = Task { try await fixture.broker.run(script: [(.seconds(5), .down)]) }
        await clock.waitForSleepers(1)

        runner.cancel()
        await #expect(throws: CancellationError.self) { try await runner.value }
        clock.advance(by: .seconds(10))
        #expect(!fixture.broker.isDown)
        #expect(fixture.harness.record.faults.isEmpty)
    }
}
