import Courier
import Synchronization
import Testing

/// Values appended from any task, read by the test.
private final class Log<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}

/// One `onRetry` call.
private struct Retry: Sendable {
    let attempt: Int
    let message: String
    let delay: Duration
    /// When the retry was announced (just before the sleep).
    let at: Duration
}

private struct PlainError: Error {}

/// Wakes the code under test `count` times: waits until it sleeps, then moves the clock to its deadline.
private func wake(_ clock: VirtualClock, times count: Int) async {
    for _ in 0..<count {
        await clock.waitForSleepers(1)
        #expect(clock.advanceToNextDeadline())
    }
}

private func approximately(_ actual: Duration, _ expected: Double) -> Bool {
    abs(actual.seconds - expected) <= 1e-9
}

private func fixed(_ initial: Duration, multiplier: Double = 2, maximum: Duration = .seconds(60)) -> Backoff {
    Backoff(initial: initial, multiplier: multiplier, maximum: maximum, jitter: .none)
}

@Suite("RetryPolicy", .timeLimit(.minutes(1)))
struct RetryPolicyTests {
    @Test func succeedsAfterRetriableFailuresSleepingEachDelayOnTheClock() async throws {
        let clock = VirtualClock()
        let policy = RetryPolicy(maxAttempts: 5, deadline: nil, backoff: fixed(.milliseconds(100)))
        let attempts = Log<(attempt: Int, at: Duration)>()
        let retries = Log<Retry>()
        let task = Task {
            try await policy.run(clock: clock, onRetry: { attempt, error, delay in
                retries.append(Retry(attempt: attempt, message: (error as? CourierError)?.message ?? "?", delay: delay, at: clock.now().offset))
            }) { attempt in
                attempts.append((attempt, clock.now().offset))
                if attempt <= 3 { throw CourierError.unavailable("down on attempt \(attempt)") }
                return "confirmed on attempt \(attempt)"
            }
        }
        await wake(clock, times: 3)
        #expect(try await task.value == "confirmed on attempt 4")

        #expect(attempts.all.map(\.attempt) == [1, 2, 3, 4])
        // Each attempt starts exactly when the previous delay has passed on the virtual clock.
        let starts = attempts.all.map(\.at)
        for (start, expected) in zip(starts, [0, 0.1, 0.3, 0.7]) {
            #expect(approximately(start, expected), "attempt started at \(start), expected \(expected)s")
        }
        #expect(retries.all.map(\.attempt) == [1, 2, 3])
        #expect(retries.all.map(\.message) == ["down on attempt 1", "down on attempt 2", "down on attempt 3"])
        for (retry, expected) in zip(retries.all, [0.1, 0.2, 0.4]) {
            #expect(approximately(retry.delay, expected), "retry \(retry.attempt) delay \(retry.delay)")
        }
        #expect(clock.sleeperCount == 0)
    }

    @Test func firstTrySuccessNeitherRetriesNorSleeps() async throws {
        let clock = VirtualClock()
        let retries = Log<Int>()
        let value = try await RetryPolicy().run(clock: clock, onRetry: { attempt, _, _ in retries.append(attempt) }) { attempt in
            attempt * 10
        }
        #expect(value == 10)
        #expect(retries.all.isEmpty)
        #expect(clock.now() == ClockInstant(offset: .zero))
    }

    @Test func stopsAtMaxAttemptsAndRethrowsTheLastError() async throws {
        let clock = VirtualClock()
        let policy = RetryPolicy(maxAttempts: 3, deadline: nil, backoff: fixed(.milliseconds(10)))
        let attempts = Log<Int>()
        let retries = Log<Int>()
        let task = Task {
            try await policy.run(clock: clock, onRetry: { attempt, _, _ in retries.append(attempt) }) { attempt -> Int in
                attempts.append(attempt)
                throw CourierError.unavailable("attempt \(attempt) failed")
            }
        }
        await wake(clock, times: 2)
        let error = await #expect(throws: CourierError.self) { try await task.value }
        #expect(error?.message == "attempt 3 failed")
        #expect(attempts.all == [1, 2, 3])
        #expect(retries.all == [1, 2])
        #expect(clock.sleeperCount == 0)
    }

    @Test func maxAttemptsOfOneOrLessMeansNoRetry() async throws {
        #expect(RetryPolicy(maxAttempts: 0).maxAttempts == 1)
        #expect(RetryPolicy(maxAttempts: -3).maxAttempts == 1)
        #expect(RetryPolicy.never.maxAttempts == 1)
        let clock = VirtualClock()
        let attempts = Log<Int>()
        await #expect(throws: CourierError.self) {
            try await RetryPolicy.never.run(clock: clock) { attempt -> Int in
                attempts.append(attempt)
                throw CourierError.unavailable("down")
            }
        }
        #expect(attempts.all == [1])
    }

    @Test(arguments: [
        CourierError(.invalidMessage, "message x has an empty topic"),
        CourierError(.messageTooLarge, "too big"),
        CourierError(.fatal, "gone", isFatal: true),
        CourierError(.rejected, "nack"),
    ])
    func doesNotRetryNonRetriableErrors(thrown: CourierError) async throws {
        let clock = VirtualClock()
        let attempts = Log<Int>()
        let retries = Log<Int>()
        let policy = RetryPolicy(maxAttempts: 5, deadline: nil, backoff: fixed(.milliseconds(10)))
        let error = await #expect(throws: CourierError.self) {
            try await policy.run(clock: clock, onRetry: { attempt, _, _ in retries.append(attempt) }) { attempt -> Int in
                attempts.append(attempt)
                throw thrown
            }
        }
        #expect(error == thrown)
        #expect(attempts.all == [1])
        #expect(retries.all.isEmpty)
        #expect(clock.now() == ClockInstant(offset: .zero))
    }

    @Test func nonCourierErrorsAreNotRetriedByDefaultButACustomClassifierCanRetryThem() async throws {
        let clock = VirtualClock()
        let attempts = Log<Int>()
        await #expect(throws: PlainError.self) {
            try await RetryPolicy(maxAttempts: 4, deadline: nil).run(clock: clock) { attempt -> Int in
                attempts.append(attempt)
                throw PlainError()
            }
        }
        #expect(attempts.all == [1])
        #expect(RetryPolicy.courierRetriable(CourierError.unavailable("x")))
        #expect(RetryPolicy.courierRetriable(CourierError.outcomeUnknown("x")))
        #expect(!RetryPolicy.courierRetriable(PlainError()))
        #expect(!RetryPolicy.courierRetriable(CancellationError()))

        let custom = RetryPolicy(maxAttempts: 4, deadline: nil, backoff: fixed(.milliseconds(5))) { $0 is PlainError }
        let customAttempts = Log<Int>()
        let task = Task {
            try await custom.run(clock: clock) { attempt -> Int in
                customAttempts.append(attempt)
                if attempt < 3 { throw PlainError() }
                return attempt
            }
        }
        await wake(clock, times: 2)
        #expect(try await task.value == 3)
        #expect(customAttempts.all == [1, 2, 3])
    }

    @Test func stopsWhenTheNextDelayWouldPassTheDeadline() async throws {
        let clock = VirtualClock()
        // Delays 1s, 2s, 4s...; attempt 2 runs at t=1s and the next delay would end at t=3s > 2.5s.
        let policy = RetryPolicy(maxAttempts: 10, deadline: .milliseconds(2_500), backoff: fixed(.seconds(1)))
        let attempts = Log<Int>()
        let task = Task {
            try await policy.run(clock: clock) { attempt -> Int in
                attempts.append(attempt)
                throw CourierError.unavailable("attempt \(attempt)")
            }
        }
        await wake(clock, times: 1)
        let error = await #expect(throws: CourierError.self) { try await task.value }
        #expect(error?.message == "attempt 2")
        #expect(attempts.all == [1, 2])
        // It gave up at once instead of sleeping towards a deadline it could not meet.
        #expect(clock.now() == ClockInstant(offset: .seconds(1)))
        #expect(clock.sleeperCount == 0)
    }

    @Test func aDelayEndingExactlyAtTheDeadlineIsStillTaken() async throws {
        let clock = VirtualClock()
        let policy = RetryPolicy(maxAttempts: 10, deadline: .seconds(3), backoff: fixed(.seconds(1)))
        let attempts = Log<Int>()
        let task = Task {
            try await policy.run(clock: clock) { attempt -> Int in
                attempts.append(attempt)
                throw CourierError.unavailable("attempt \(attempt)")
            }
        }
        // Attempts at 0s, 1s and 3s; the next delay (4s) would end at 7s.
        await wake(clock, times: 2)
        await #expect(throws: CourierError.self) { try await task.value }
        #expect(attempts.all == [1, 2, 3])
        #expect(clock.now() == ClockInstant(offset: .seconds(3)))
    }

    @Test func timeSpentInsideAttemptsCountsTowardsTheDeadline() async throws {
        let clock = VirtualClock()
        let policy = RetryPolicy(maxAttempts: 10, deadline: .seconds(5), backoff: fixed(.seconds(1), multiplier: 1))
        let attempts = Log<Int>()
        let task = Task {
            try await policy.run(clock: clock) { attempt -> Int in
                attempts.append(attempt)
                clock.advance(by: .seconds(2))  // a slow broker
                throw CourierError.unavailable("timed out")
            }
        }
        // Attempt 1: 0s-2s, sleep to 3s; attempt 2: 3s-5s; 5s + 1s > 5s, so no third attempt.
        await wake(clock, times: 1)
        await #expect(throws: CourierError.self) { try await task.value }
        #expect(attempts.all == [1, 2])
        #expect(clock.now() == ClockInstant(offset: .seconds(5)))
    }

    @Test func budgetExhaustionStopsRetriesAndSuccessesRefillIt() async throws {
        let clock = VirtualClock()
        // 4 tokens; retries only while more than 2 remain. Each success deposits one token.
        let budget = RetryBudget(maxTokens: 4, tokenRatio: 1)
        let policy = RetryPolicy(maxAttempts: 10, deadline: nil, backoff: fixed(.milliseconds(10)))
        let attempts = Log<Int>()
        let failing = Task {
            try await policy.run(clock: clock, budget: budget) { attempt -> Int in
                attempts.append(attempt)
                throw CourierError.unavailable("down")
            }
        }
        // Failure 1 leaves 3 tokens (> 2: retry); failure 2 leaves 2 (not > 2: stop) although 8 attempts remain.
        await wake(clock, times: 1)
        await #expect(throws: CourierError.self) { try await failing.value }
        #expect(attempts.all == [1, 2])
        #expect(budget.available == 2)
        #expect(!budget.allowsRetry)

        // With the budget spent, a failing call gets no retry at all.
        let noRetry = Log<Int>()
        await #expect(throws: CourierError.self) {
            try await policy.run(clock: clock, budget: budget) { attempt -> Int in
                noRetry.append(attempt)
                throw CourierError.unavailable("still down")
            }
        }
        #expect(noRetry.all == [1])
        #expect(budget.available == 1)

        // Successes refill it.
        for _ in 0..<3 { _ = try await policy.run(clock: clock, budget: budget) { $0 } }
        #expect(budget.available == 4)
        #expect(budget.allowsRetry)
        let recovered = Log<Int>()
        let retrying = Task {
            try await policy.run(clock: clock, budget: budget) { attempt -> Int in
                recovered.append(attempt)
                if attempt == 1 { throw CourierError.unavailable("blip") }
                return attempt
            }
        }
        await wake(clock, times: 1)
        #expect(try await retrying.value == 2)
        #expect(recovered.all == [1, 2])
    }

    @Test func onRetryReportsExactlyTheDelayThatIsSlept() async throws {
        let clock = VirtualClock()
        let policy = RetryPolicy(
            maxAttempts: 6,
            deadline: nil,
            backoff: Backoff(initial: .milliseconds(100), multiplier: 2, maximum: .seconds(1), jitter: .full)
        )
        let retries = Log<Retry>()
        let task = Task {
            try await policy.run(clock: clock, generator: RandomSource(seed: 77), onRetry: { attempt, _, delay in
                retries.append(Retry(attempt: attempt, message: "", delay: delay, at: clock.now().offset))
            }) { attempt -> Int in
                if attempt < 6 { throw CourierError.unavailable("down") }
                return attempt
            }
        }
        for expectedRetry in 1...5 {
            await clock.waitForSleepers(1)
            let retry = try #require(retries.all.last)
            #expect(retry.attempt == expectedRetry)
            // The sleeper's deadline is exactly "announced at" plus the announced delay.
            #expect(clock.nextDeadline == ClockInstant(offset: retry.at + retry.delay))
            let ceiling = min(0.1 * Double(1 << (expectedRetry - 1)), 1)
            #expect(retry.delay >= .zero && retry.delay.seconds <= ceiling + 1e-9)
            clock.advanceToNextDeadline()
        }
        #expect(try await task.value == 6)
        let total = retries.all.reduce(Duration.zero) { $0 + $1.delay }
        #expect(clock.now() == ClockInstant(offset: total))
    }

    @Test func seededJitterGivesTheSameDelaysEveryRun() async throws {
        func delays(seed: UInt64) async throws -> [Duration] {
            let clock = VirtualClock()
            let policy = RetryPolicy(maxAttempts: 5, deadline: nil, backoff: Backoff(jitter: .decorrelated))
            let retries = Log<Duration>()
            let task = Task {
                try await policy.run(clock: clock, generator: RandomSource(seed: seed), onRetry: { _, _, delay in retries.append(delay) }) { attempt -> Int in
                    if attempt < 5 { throw CourierError.unavailable("down") }
                    return attempt
                }
            }
            await wake(clock, times: 4)
            _ = try await task.value
            return retries.all
        }
        let first = try await delays(seed: 9)
        #expect(first.count == 4)
        #expect(try await delays(seed: 9) == first)
        #expect(try await delays(seed: 10) != first)
        // Decorrelated: each delay within [initial, min(maximum, previous * 3)].
        var previous = 0.05
        for delay in first {
            #expect(delay.seconds >= 0.05 - 1e-9 && delay.seconds <= min(2, previous * 3) + 1e-9, "\(delay)")
            previous = delay.seconds
        }
    }

    @Test func cancellationDuringBackoffThrowsCancellationErrorAtOnce() async throws {
        let clock = VirtualClock()
        let policy = RetryPolicy(maxAttempts: 5, deadline: nil, backoff: fixed(.seconds(30)))
        let attempts = Log<Int>()
        let task = Task {
            try await policy.run(clock: clock) { attempt -> Int in
                attempts.append(attempt)
                throw CourierError.unavailable("down")
            }
        }
        await clock.waitForSleepers(1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(attempts.all == [1])
        #expect(clock.sleeperCount == 0)
        // No virtual time passed: the wait ended on cancellation, not on the deadline.
        #expect(clock.now() == ClockInstant(offset: .zero))
    }

    @Test func anOperationThrowingCancellationErrorIsNotRetriedEvenByAPermissiveClassifier() async throws {
        let clock = VirtualClock()
        let policy = RetryPolicy(maxAttempts: 5, deadline: nil, backoff: fixed(.milliseconds(1))) { _ in true }
        let attempts = Log<Int>()
        await #expect(throws: CancellationError.self) {
            try await policy.run(clock: clock) { attempt -> Int in
                attempts.append(attempt)
                throw CancellationError()
            }
        }
        #expect(attempts.all == [1])
    }

    @Test func defaultsAreTheDocumentedOnes() {
        let policy = RetryPolicy()
        #expect(policy.maxAttempts == 3)
        #expect(policy.deadline == .seconds(10))
        #expect(policy.backoff == Backoff())
        #expect(RetryPolicy.never.deadline == nil)
    }
}
