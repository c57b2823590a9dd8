import Courier
import Foundation
import Synchronization
import Testing

@Suite("VirtualClock", .timeLimit(.minutes(1)))
struct VirtualClockTests {
    @Test func startsAtZeroAndMovesOnlyWhenAdvanced() {
        let clock = VirtualClock()
        #expect(clock.now() == ClockInstant(offset: .zero))
        #expect(clock.now() == ClockInstant(offset: .zero))
        clock.advance(by: .milliseconds(1_500))
        #expect(clock.now() == ClockInstant(offset: .milliseconds(1_500)))
        #expect(clock.sleeperCount == 0)
        #expect(clock.nextDeadline == nil)
        #expect(clock.advanceToNextDeadline() == false)
    }

    @Test func wallClockMovesWithAdvance() {
        let origin = Date(timeIntervalSince1970: 1_000_000)
        let clock = VirtualClock(wallClockOrigin: origin)
        #expect(clock.wallClockNow() == origin)
        clock.advance(by: .seconds(90) + .milliseconds(250))
        #expect(clock.wallClockNow().timeIntervalSince(origin) == 90.25)
    }

    @Test func sleepWithPastOrPresentDeadlineReturnsAtOnce() async throws {
        let clock = VirtualClock()
        clock.advance(by: .seconds(10))
        try await clock.sleep(until: ClockInstant(offset: .seconds(3)))
        try await clock.sleep(until: clock.now())
        try await clock.sleep(for: .zero)
        #expect(clock.sleeperCount == 0)
        #expect(clock.now() == ClockInstant(offset: .seconds(10)))
    }

    @Test func sleeperWakesOnlyOnceItsDeadlineHasPassed() async throws {
        let clock = VirtualClock()
        let woke = Flag()
        let sleeper = Task {
            try await clock.sleep(for: .seconds(5))
            woke.set()
            return clock.now()
        }
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == ClockInstant(offset: .seconds(5)))

        clock.advance(by: .seconds(4))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .milliseconds(999))
        #expect(clock.sleeperCount == 1)
        #expect(!woke.isSet)

        clock.advance(by: .milliseconds(1))
        #expect(clock.sleeperCount == 0)
        let wokeAt = try await sleeper.value
        #expect(wokeAt == ClockInstant(offset: .seconds(5)))
        #expect(woke.isSet)
    }

    @Test func sleepersWakeInDeadlineOrder() async throws {
        let clock = VirtualClock()
        // Registered out of order on purpose.
        let third = Task { try await clock.sleep(until: ClockInstant(offset: .seconds(3))) }
        await clock.waitForSleepers(1)
        let first = Task { try await clock.sleep(until: ClockInstant(offset: .seconds(1))) }
        await clock.waitForSleepers(2)
        let second = Task { try await clock.sleep(until: ClockInstant(offset: .seconds(2))) }
        await clock.waitForSleepers(3)
        #expect(clock.nextDeadline == ClockInstant(offset: .seconds(1)))

        #expect(clock.advanceToNextDeadline())
        try await first.value
        #expect(clock.now() == ClockInstant(offset: .seconds(1)))
        #expect(clock.sleeperCount == 2)
        #expect(clock.nextDeadline == ClockInstant(offset: .seconds(2)))

        clock.advance(by: .milliseconds(1_500))
        try await second.value
        #expect(clock.sleeperCount == 1)
        #expect(clock.nextDeadline == ClockInstant(offset: .seconds(3)))

        #expect(clock.advanceToNextDeadline())
        try await third.value
        #expect(clock.sleeperCount == 0)
        #expect(clock.now() == ClockInstant(offset: .seconds(3)))
    }

    @Test func oneAdvanceWakesEveryDueSleeperAndNoOther() async throws {
        let clock = VirtualClock()
        let due = (1...3).map { seconds in Task { try await clock.sleep(for: .seconds(seconds)) } }
        let later = Task { try await clock.sleep(for: .seconds(60)) }
        await clock.waitForSleepers(4)

        clock.advance(by: .seconds(3))
        for task in due { try await task.value }
        #expect(clock.sleeperCount == 1)
        #expect(clock.nextDeadline == ClockInstant(offset: .seconds(60)))

        later.cancel()
        await #expect(throws: CancellationError.self) { try await later.value }
    }

    @Test func cancellingASleeperThrowsAndRemovesIt() async throws {
        let clock = VirtualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(30)) }
        let other = Task { try await clock.sleep(for: .seconds(40)) }
        await clock.waitForSleepers(2)

        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 1)
        #expect(clock.nextDeadline == ClockInstant(offset: .seconds(40)))

        // Advancing past the cancelled deadline must not resume its continuation a second time.
        clock.advance(by: .seconds(40))
        try await other.value
        #expect(clock.sleeperCount == 0)
    }

    @Test func alreadyCancelledTaskDoesNotSleep() async {
        let clock = VirtualClock()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(for: .seconds(1))
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func waitForSleepersReturnsOnceEnoughAreAsleep() async throws {
        let clock = VirtualClock()
        let reached = Flag()
        let waiter = Task {
            await clock.waitForSleepers(2)
            reached.set()
            return clock.sleeperCount
        }
        let one = Task { try await clock.sleep(for: .seconds(1)) }
        let two = Task { try await clock.sleep(for: .seconds(2)) }
        let countWhenReached = await waiter.value
        #expect(countWhenReached >= 2)
        #expect(reached.isSet)

        // Already satisfied: returns at once.
        await clock.waitForSleepers(2)
        await clock.waitForSleepers(0)

        clock.advance(by: .seconds(2))
        try await one.value
        try await two.value
    }
}

@Suite("SystemClock", .timeLimit(.minutes(1)))
struct SystemClockTests {
    @Test func sleepsForAtLeastTheDuration() async throws {
        let clock = SystemClock()
        let before = clock.now()
        try await clock.sleep(for: .milliseconds(20))
        #expect(clock.now() - before >= .milliseconds(20))
    }

    @Test func wallClockIsTheSystemTime() {
        #expect(abs(SystemClock().wallClockNow().timeIntervalSinceNow) < 5)
    }

    @Test func cancelledSleepThrows() async {
        let clock = SystemClock()
        let task = Task { try await clock.sleep(for: .seconds(600)) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}

@Suite("ClockInstant")
struct ClockInstantTests {
    @Test func arithmeticAndOrder() {
        let start = ClockInstant(offset: .seconds(2))
        let later = start + .milliseconds(500)
        #expect(later.offset == .milliseconds(2_500))
        #expect(later - start == .milliseconds(500))
        #expect(start < later)
        #expect(start.description == "t+2.0 seconds")
    }
}
