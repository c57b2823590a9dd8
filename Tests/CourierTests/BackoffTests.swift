import Courier
import Testing

/// `Duration` built from a `Double` carries the double's rounding, so delays compare in seconds with a
/// tolerance far below anything a clock could tell apart.
private func approximately(_ actual: Duration, _ expected: Double, within tolerance: Double = 1e-9) -> Bool {
    abs(actual.seconds - expected) <= tolerance
}

@Suite("Backoff")
struct BackoffTests {
    static let draws = 5_000

    @Test func noJitterIsTheExactExponentialCappedAtTheMaximum() {
        let backoff = Backoff(initial: .milliseconds(100), multiplier: 2, maximum: .seconds(2), jitter: .none)
        var generator = SplitMix64(seed: 1)
        let expected = [0.1, 0.2, 0.4, 0.8, 1.6, 2, 2, 2, 2, 2]
        var previous: Duration?
        for (index, seconds) in expected.enumerated() {
            let retry = index + 1
            #expect(approximately(backoff.exponential(retry: retry), seconds), "retry \(retry)")
            // No randomness at all: every draw is the same.
            for _ in 0..<20 {
                let delay = backoff.delay(retry: retry, previous: previous, using: &generator)
                #expect(approximately(delay, seconds), "retry \(retry): \(delay)")
            }
            previous = .seconds(seconds)
        }
    }

    @Test(arguments: [1.0, 1.5, 2.0, 3.0])
    func multiplierScalesEachRetry(multiplier: Double) {
        let backoff = Backoff(initial: .milliseconds(50), multiplier: multiplier, maximum: .seconds(1_000_000), jitter: .none)
        var expected = 0.05
        for retry in 1...12 {
            #expect(approximately(backoff.exponential(retry: retry), expected, within: expected * 1e-12), "retry \(retry)")
            expected *= multiplier
        }
    }

    @Test func capHoldsForHugeRetryNumbersAndTheFirstRetryIsTheInitialDelay() {
        let backoff = Backoff(initial: .milliseconds(50), multiplier: 2, maximum: .seconds(2), jitter: .none)
        #expect(approximately(backoff.exponential(retry: 1), 0.05))
        #expect(approximately(backoff.exponential(retry: 6), 1.6))
        // Retry numbers below 1 behave like the first retry rather than shrinking the delay.
        #expect(approximately(backoff.exponential(retry: 0), 0.05))
        #expect(approximately(backoff.exponential(retry: -5), 0.05))
        for retry in [7, 8, 64, 1_024, 2_000, 100_000] {
            #expect(backoff.exponential(retry: retry) == .seconds(2), "retry \(retry)")
        }
        // A maximum below the initial delay wins.
        let tight = Backoff(initial: .seconds(5), multiplier: 2, maximum: .seconds(1), jitter: .none)
        #expect(tight.exponential(retry: 1) == .seconds(1))
    }

    @Test func fullJitterStaysWithinZeroAndTheExponentialAndSpreadsOverIt() {
        let backoff = Backoff(initial: .milliseconds(100), multiplier: 2, maximum: .seconds(5), jitter: .full)
        var generator = SplitMix64(seed: 42)
        for retry in 1...10 {
            let ceiling = backoff.exponential(retry: retry).seconds
            var low = Double.infinity
            var high = -Double.infinity
            var sum = 0.0
            for _ in 0..<Self.draws {
                let delay = backoff.delay(retry: retry, previous: nil, using: &generator).seconds
                #expect(delay >= 0 && delay <= ceiling + 1e-9, "retry \(retry): \(delay) outside 0...\(ceiling)")
                low = min(low, delay)
                high = max(high, delay)
                sum += delay
            }
            // Really random over the whole range, not stuck at an end.
            #expect(low < ceiling * 0.05, "retry \(retry): lowest \(low)")
            #expect(high > ceiling * 0.95, "retry \(retry): highest \(high)")
            let mean = sum / Double(Self.draws)
            #expect(abs(mean - ceiling / 2) < ceiling * 0.05, "retry \(retry): mean \(mean)")
        }
    }

    @Test func equalJitterStaysWithinHalfAndTheWholeExponential() {
        let backoff = Backoff(initial: .milliseconds(100), multiplier: 2, maximum: .seconds(5), jitter: .equal)
        var generator = SplitMix64(seed: 7)
        for retry in 1...10 {
            let ceiling = backoff.exponential(retry: retry).seconds
            var low = Double.infinity
            var high = -Double.infinity
            for _ in 0..<Self.draws {
                let delay = backoff.delay(retry: retry, previous: nil, using: &generator).seconds
                #expect(delay >= ceiling / 2 - 1e-9 && delay <= ceiling + 1e-9, "retry \(retry): \(delay) outside \(ceiling / 2)...\(ceiling)")
                low = min(low, delay)
                high = max(high, delay)
            }
            #expect(low < ceiling * 0.55, "retry \(retry): lowest \(low)")
            #expect(high > ceiling * 0.95, "retry \(retry): highest \(high)")
        }
    }

    @Test func decorrelatedJitterGrowsFromThePreviousDelayWithinInitialAndThreeTimesIt() {
        let initial = 0.1
        let maximum = 4.0
        let backoff = Backoff(initial: .milliseconds(100), multiplier: 2, maximum: .seconds(4), jitter: .decorrelated)
        var generator = SplitMix64(seed: 2_024)
        var reachedMaximum = 0
        // Many independent chains of retries, each feeding its last delay back in.
        for _ in 0..<500 {
            var previous: Duration?
            for retry in 1...12 {
                let delay = backoff.delay(retry: retry, previous: previous, using: &generator)
                let upper = min(maximum, (previous?.seconds ?? initial) * 3)
                #expect(delay.seconds >= initial - 1e-9, "retry \(retry): \(delay) below the initial delay")
                #expect(delay.seconds <= upper + 1e-9, "retry \(retry): \(delay) above min(max, previous*3) = \(upper)")
                if approximately(delay, maximum) { reachedMaximum += 1 }
                previous = delay
            }
        }
        // Long chains grow up to the cap and stay pinned there.
        #expect(reachedMaximum > 0)
    }

    @Test func decorrelatedFirstRetryIsBetweenInitialAndThreeTimesInitial() {
        let backoff = Backoff(initial: .milliseconds(200), multiplier: 2, maximum: .seconds(10), jitter: .decorrelated)
        var generator = SplitMix64(seed: 99)
        var high = 0.0
        for _ in 0..<Self.draws {
            let delay = backoff.delay(retry: 1, previous: nil, using: &generator).seconds
            #expect(delay >= 0.2 - 1e-9 && delay <= 0.6 + 1e-9, "\(delay)")
            high = max(high, delay)
        }
        #expect(high > 0.55)
    }

    @Test(arguments: Jitter.allCases)
    func noModeEverExceedsTheMaximum(jitter: Jitter) {
        let backoff = Backoff(initial: .milliseconds(250), multiplier: 3, maximum: .milliseconds(900), jitter: jitter)
        var generator = SplitMix64(seed: 5)
        var previous: Duration?
        for retry in 1...40 {
            for _ in 0..<200 {
                let delay = backoff.delay(retry: retry, previous: previous, using: &generator)
                #expect(delay.seconds <= 0.9 + 1e-9, "\(jitter) retry \(retry): \(delay)")
                #expect(delay >= .zero, "\(jitter) retry \(retry): \(delay)")
                previous = delay
            }
        }
    }

    @Test(arguments: Jitter.allCases)
    func sameSeedSameDelays(jitter: Jitter) {
        let backoff = Backoff(initial: .milliseconds(10), multiplier: 2, maximum: .seconds(1), jitter: jitter)
        func sequence(seed: UInt64) -> [Duration] {
            var generator = SplitMix64(seed: seed)
            var previous: Duration?
            return (1...20).map { retry in
                let delay = backoff.delay(retry: retry, previous: previous, using: &generator)
                previous = delay
                return delay
            }
        }
        #expect(sequence(seed: 11) == sequence(seed: 11))
        if jitter != .none {
            #expect(sequence(seed: 11) != sequence(seed: 12))
        }
    }

    @Test func seededRandomSourceIsRepeatableAndAdvances() {
        let first = RandomSource(seed: 123)
        let second = RandomSource(seed: 123)
        let a = (0..<10).map { _ in first.next { $0.next() as UInt64 } }
        let b = (0..<10).map { _ in second.next { $0.next() as UInt64 } }
        #expect(a == b)
        // The state carries over between calls: ten different values, not one repeated.
        #expect(Set(a).count == 10)
        var reference = SplitMix64(seed: 123)
        #expect(a == (0..<10).map { _ in reference.next() })
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let backoff = Backoff()
        #expect(backoff.initial == .milliseconds(50))
        #expect(backoff.multiplier == 2)
        #expect(backoff.maximum == .seconds(2))
        #expect(backoff.jitter == .full)
        #expect(Jitter.allCases.map(\.rawValue) == ["none", "full", "equal", "decorrelated"])
    }

    @Test func durationSecondsIncludesTheFraction() {
        #expect(Duration.milliseconds(1_500).seconds == 1.5)
        #expect(Duration.zero.seconds == 0)
        #expect(Duration.nanoseconds(1).seconds == 1e-9)
    }
}
