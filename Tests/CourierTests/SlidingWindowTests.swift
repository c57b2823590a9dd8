@testable import Courier
import Testing

private func at(_ seconds: Double) -> ClockInstant { ClockInstant(offset: .milliseconds(Int64(seconds * 1_000))) }

private func totals(_ window: inout SlidingWindow, at now: ClockInstant) -> [Int] {
    let totals = window.totals(at: now)
    return [totals.calls, totals.failures, totals.slow]
}

@Suite("SlidingWindow")
struct SlidingWindowTests {
    @Test func countWindowHoldsTheLastNCalls() {
        var window = SlidingWindow(.count(3))
        let now = at(0)
        #expect(totals(&window, at: now) == [0, 0, 0])
        window.record(failed: true, slow: false, at: now)
        window.record(failed: true, slow: true, at: now)
        #expect(totals(&window, at: now) == [2, 2, 1])
        window.record(failed: false, slow: false, at: now)
        #expect(totals(&window, at: now) == [3, 2, 1])
        // The fourth call pushes out the first (a failure).
        window.record(failed: false, slow: false, at: now)
        #expect(totals(&window, at: now) == [3, 1, 1])
        // The fifth pushes out the slow failure.
        window.record(failed: false, slow: false, at: now)
        #expect(totals(&window, at: now) == [3, 0, 0])
        // Many laps later it still holds exactly three.
        for index in 0..<100 { window.record(failed: index % 2 == 0, slow: false, at: now) }
        #expect(totals(&window, at: now) == [3, 1, 0])
    }

    @Test func countWindowIgnoresTheClock() {
        var window = SlidingWindow(.count(2))
        window.record(failed: true, slow: false, at: at(0))
        window.record(failed: true, slow: false, at: at(1))
        #expect(totals(&window, at: at(1_000_000)) == [2, 2, 0])
    }

    @Test func timeWindowAddsCallsOfTheSameSecondIntoOneBucket() {
        var window = SlidingWindow(.time(seconds: 5))
        window.record(failed: true, slow: false, at: at(10.0))
        window.record(failed: false, slow: true, at: at(10.5))
        window.record(failed: false, slow: false, at: at(10.999))
        #expect(totals(&window, at: at(10.999)) == [3, 1, 1])
    }

    @Test func timeWindowExpiresBucketsAsTheClockAdvances() {
        var window = SlidingWindow(.time(seconds: 3))
        window.record(failed: true, slow: false, at: at(0))
        window.record(failed: false, slow: false, at: at(1))
        window.record(failed: true, slow: true, at: at(2))
        #expect(totals(&window, at: at(2.9)) == [3, 2, 1])
        // Second 3: the window covers seconds 1-3, so second 0 is gone.
        #expect(totals(&window, at: at(3)) == [2, 1, 1])
        #expect(totals(&window, at: at(4)) == [1, 1, 1])
        #expect(totals(&window, at: at(5)) == [0, 0, 0])
    }

    @Test func timeWindowReusesABucketSlotForALaterSecond() {
        var window = SlidingWindow(.time(seconds: 2))
        window.record(failed: true, slow: false, at: at(4))
        // Second 6 maps to the same slot as second 4 and must replace, not add to, it.
        window.record(failed: false, slow: false, at: at(6))
        #expect(totals(&window, at: at(6)) == [1, 0, 0])
        window.record(failed: true, slow: false, at: at(7))
        #expect(totals(&window, at: at(7)) == [2, 1, 0])
    }

    @Test func timeWindowForgetsEverythingAfterALongQuietSpell() {
        var window = SlidingWindow(.time(seconds: 10))
        for second in 0..<10 { window.record(failed: true, slow: true, at: at(Double(second))) }
        #expect(totals(&window, at: at(9)) == [10, 10, 10])
        window.record(failed: false, slow: false, at: at(3_600))
        #expect(totals(&window, at: at(3_600)) == [1, 0, 0])
    }

    @Test func degenerateSizesStillHoldOneCall() {
        var count = SlidingWindow(.count(0))
        count.record(failed: true, slow: false, at: at(0))
        count.record(failed: false, slow: false, at: at(0))
        #expect(totals(&count, at: at(0)) == [1, 0, 0])
        var time = SlidingWindow(.time(seconds: 0))
        time.record(failed: true, slow: false, at: at(0))
        #expect(totals(&time, at: at(0)) == [1, 1, 0])
        #expect(totals(&time, at: at(1)) == [0, 0, 0])
    }
}
