import Courier
import Synchronization
import Testing

/// Values appended from any task, read by the test.
private final class Log<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}

private typealias State = CircuitBreaker.State
private typealias Transition = CircuitBreaker.Transition

private let brokerDown = CourierError.unavailable("broker down")

private struct PlainError: Error {}

extension CircuitBreaker {
    /// `count` calls that fail with a retriable broker error.
    fileprivate func fail(_ count: Int = 1) throws {
        for _ in 0..<count {
            let permit = try acquire()
            record(permit, error: brokerDown)
        }
    }

    /// `count` calls that succeed at once.
    fileprivate func succeed(_ count: Int = 1) throws {
        for _ in 0..<count { recordSuccess(try acquire()) }
    }
}

/// A breaker on `clock` whose transitions land in the returned log.
private func makeBreaker(
    _ clock: VirtualClock,
    _ configuration: CircuitBreakerConfiguration
) -> (CircuitBreaker, Log<Transition>) {
    let breaker = CircuitBreaker(name: "primary", configuration: configuration, clock: clock)
    let log = Log<Transition>()
    breaker.onTransition { log.append($0) }
    return (breaker, log)
}

private func pairs(_ log: Log<Transition>) -> [String] { log.all.map { "\($0.from)->\($0.to)" } }

/// Checks the breaker refuses every call for exactly `duration` more, then lets a trial call through
/// (half-open) and returns its permit.
private func expectOpen(
    for duration: Duration,
    _ breaker: CircuitBreaker,
    _ clock: VirtualClock,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> CircuitBreaker.Permit {
    #expect(breaker.currentState == .open, sourceLocation: sourceLocation)
    clock.advance(by: duration - .milliseconds(1))
    #expect(!breaker.admitsCalls, sourceLocation: sourceLocation)
    let refusal = #expect(throws: CourierError.self, sourceLocation: sourceLocation) { try breaker.acquire() }
    #expect(refusal?.code == .circuitOpen, sourceLocation: sourceLocation)
    clock.advance(by: .milliseconds(1))
    #expect(breaker.admitsCalls, sourceLocation: sourceLocation)
    let permit = try breaker.acquire()
    #expect(breaker.currentState == .halfOpen, sourceLocation: sourceLocation)
    return permit
}

@Suite("CircuitBreaker", .timeLimit(.minutes(1)))
struct CircuitBreakerTests {
    // MARK: Closed to open

    @Test func opensAtTheFailureRateOnlyOnceMinimumCallsAreReached() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(10), failureRateThreshold: 50, minimumCalls: 4))
        // 100% failures, but fewer calls than the minimum: no judgement yet.
        try breaker.fail(3)
        #expect(breaker.currentState == .closed)
        #expect(log.all.isEmpty)
        // The fourth call (a success) makes the window judgeable: 3 of 4 = 75% >= 50%.
        try breaker.succeed()
        #expect(breaker.currentState == .open)
        #expect(pairs(log) == ["closed->open"])
        let transition = try #require(log.all.first)
        #expect(transition.breaker == "primary")
        #expect(transition.reason.contains("3 of 4 calls failed"))
        #expect(transition.at == clock.now())
    }

    @Test func staysClosedBelowTheThresholdAndOpensExactlyAtIt() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(10), failureRateThreshold: 50, minimumCalls: 4))
        try breaker.succeed(3)
        try breaker.fail()  // 1 of 4
        try breaker.fail()  // 2 of 5
        #expect(breaker.currentState == .closed)
        try breaker.fail()  // 3 of 6 = 50%: the threshold is inclusive
        #expect(breaker.currentState == .open)
        #expect(pairs(log) == ["closed->open"])
    }

    @Test func countWindowForgetsOldCalls() throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(4), failureRateThreshold: 75, minimumCalls: 4))
        try breaker.fail(2)
        try breaker.succeed(2)  // [f f s s] 50%
        try breaker.succeed(2)  // [s s s s]: the two failures have left the window
        try breaker.fail(2)  // [s s f f] 50%
        #expect(breaker.currentState == .closed)
        // [s f f f] 75%. Counting every call ever made (5 of 9) would not reach 75%.
        try breaker.fail()
        #expect(breaker.currentState == .open)
    }

    @Test func minimumCallsLargerThanACountWindowIsCappedAtTheWindowSize() throws {
        // resilience4j: for a count-based window the minimum is min(minimumNumberOfCalls, windowSize);
        // otherwise a window of 3 with the default minimum of 5 could never open.
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(3), failureRateThreshold: 50, minimumCalls: 5))
        try breaker.fail(2)
        #expect(breaker.currentState == .closed)
        try breaker.fail()
        #expect(breaker.currentState == .open)
    }

    @Test func timeWindowExpiresBucketsAsTheClockAdvances() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(window: .time(seconds: 10), failureRateThreshold: 50, minimumCalls: 4))
        try breaker.fail(3)  // second 0
        clock.advance(by: .seconds(10))  // the window now covers seconds 1-10
        try breaker.succeed()
        try breaker.fail()
        // Had second 0 still counted, 4 of 5 calls would have failed by now.
        #expect(breaker.currentState == .closed)
        clock.advance(by: .seconds(2))
        try breaker.fail()
        #expect(breaker.currentState == .closed)
        try breaker.fail()  // seconds 10-12: 3 of 4 failed
        #expect(breaker.currentState == .open)
        #expect(log.all.first?.reason.contains("3 of 4 calls failed") == true)
    }

    @Test func timeWindowCountsCallsWithinItsSpan() throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .time(seconds: 10), failureRateThreshold: 50, minimumCalls: 4))
        // Failures spread over nine seconds all stay in a ten-second window.
        for _ in 0..<3 {
            try breaker.fail()
            clock.advance(by: .seconds(3))
        }
        #expect(breaker.currentState == .closed)
        try breaker.fail()  // t=9s: 4 of 4
        #expect(breaker.currentState == .open)
    }

    // MARK: Slow calls

    @Test func slowCallsOpenItAtTheSlowCallThreshold() async throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(
            window: .count(10),
            failureRateThreshold: 50,
            slowCallRateThreshold: 50,
            slowCallDuration: .seconds(1),
            minimumCalls: 2
        ))
        // Exactly the slow-call duration is not slow.
        for _ in 0..<2 {
            let value = try await breaker.run { () async -> Int in
                clock.advance(by: .seconds(1))
                return 1
            }
            #expect(value == 1)
        }
        #expect(breaker.currentState == .closed)
        // Successful but slow: 1 of 3 is below 50%, 2 of 4 reaches it.
        for expectedState in [State.closed, .open] {
            _ = try await breaker.run { () async -> Int in
                clock.advance(by: .milliseconds(2_500))
                return 2
            }
            #expect(breaker.currentState == expectedState)
        }
        #expect(pairs(log) == ["closed->open"])
        #expect(log.all.first?.reason.contains("2 of 4 calls were slower than") == true)
    }

    @Test func theDefaultSlowCallThresholdOpensOnlyWhenEveryCallIsSlow() async throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(3), slowCallDuration: .seconds(1), minimumCalls: 3))
        func slowCall() async throws {
            _ = try await breaker.run { () async -> Int in
                clock.advance(by: .seconds(2))
                return 0
            }
        }
        try await slowCall()
        try await slowCall()
        try breaker.succeed()
        #expect(breaker.currentState == .closed)  // [slow slow fast]
        try await slowCall()
        try await slowCall()
        #expect(breaker.currentState == .closed)  // [fast slow slow]
        try await slowCall()
        #expect(breaker.currentState == .open)  // [slow slow slow]
    }

    @Test func aSlowTrialCallReopensIt() async throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(
            window: .count(2),
            slowCallRateThreshold: 50,
            slowCallDuration: .seconds(1),
            minimumCalls: 2,
            openDuration: .seconds(5),
            permittedCallsInHalfOpen: 1
        ))
        try breaker.fail(2)
        clock.advance(by: .seconds(5))
        _ = try await breaker.run { () async -> Int in
            clock.advance(by: .seconds(3))
            return 0
        }
        #expect(breaker.currentState == .open)
        #expect(pairs(log) == ["closed->open", "open->half-open", "half-open->open"])
        #expect(log.all.last?.reason.hasPrefix("trial calls: ") == true)
    }

    // MARK: Open

    @Test func openRefusesWithARetriableCircuitOpenErrorAndDoesNotRunTheCall() async throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(2), minimumCalls: 2, openDuration: .seconds(30)))
        try breaker.fail(2)
        #expect(breaker.currentState == .open)
        #expect(!breaker.admitsCalls)
        let error = #expect(throws: CourierError.self) { try breaker.acquire() }
        #expect(error?.code == .circuitOpen)
        #expect(error?.isRetriable == true)
        #expect(error?.isFatal == false)
        #expect(error?.message.contains("primary") == true)
        #expect(error?.message.contains("is open") == true)

        let ran = Log<Int>()
        let refused = await #expect(throws: CourierError.self) {
            try await breaker.run { () async -> Int in
                ran.append(1)
                return 1
            }
        }
        #expect(refused?.code == .circuitOpen)
        #expect(ran.all.isEmpty)
    }

    @Test func afterTheOpenDurationTheNextCallFindsItHalfOpen() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(2), minimumCalls: 2, openDuration: .seconds(30)))
        try breaker.fail(2)
        clock.advance(by: .seconds(30))
        // Time is up, but the state moves only when a call arrives.
        #expect(breaker.currentState == .open)
        #expect(breaker.admitsCalls)
        #expect(pairs(log) == ["closed->open"])
        _ = try breaker.acquire()
        #expect(breaker.currentState == .halfOpen)
        #expect(pairs(log) == ["closed->open", "open->half-open"])
        #expect(log.all.last?.at == ClockInstant(offset: .seconds(30)))
    }

    @Test func openDurationIsExactToTheMillisecond() throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(2), minimumCalls: 2, openDuration: .milliseconds(1_500)))
        try breaker.fail(2)
        _ = try expectOpen(for: .milliseconds(1_500), breaker, clock)
    }

    // MARK: Half-open

    @Test func allTrialCallsSucceedingClosesIt() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(4), minimumCalls: 4, openDuration: .seconds(1), permittedCallsInHalfOpen: 3))
        try breaker.fail(4)
        clock.advance(by: .seconds(1))
        let permits = try (0..<3).map { _ in try breaker.acquire() }
        breaker.recordSuccess(permits[0])
        breaker.recordSuccess(permits[1])
        #expect(breaker.currentState == .halfOpen)
        breaker.recordSuccess(permits[2])
        #expect(breaker.currentState == .closed)
        #expect(pairs(log) == ["closed->open", "open->half-open", "half-open->closed"])
        #expect(log.all.last?.reason == "3 trial calls succeeded")
        // Closed with an empty window: one failure is not enough to judge.
        try breaker.fail(3)
        #expect(breaker.currentState == .closed)
    }

    @Test func failingTrialCallsReopenIt() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(4), failureRateThreshold: 50, minimumCalls: 4, openDuration: .seconds(1), permittedCallsInHalfOpen: 3))
        try breaker.fail(4)
        clock.advance(by: .seconds(1))
        try breaker.fail()
        try breaker.succeed()
        #expect(breaker.currentState == .halfOpen)
        try breaker.fail()  // 2 of 3 trial calls failed
        #expect(breaker.currentState == .open)
        #expect(pairs(log) == ["closed->open", "open->half-open", "half-open->open"])
        #expect(log.all.last?.reason.contains("2 of 3 calls failed") == true)
    }

    @Test func trialFailuresBelowTheThresholdStillCloseIt() throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(4), failureRateThreshold: 50, minimumCalls: 4, openDuration: .seconds(1), permittedCallsInHalfOpen: 3))
        try breaker.fail(4)
        clock.advance(by: .seconds(1))
        try breaker.fail()
        try breaker.succeed(2)  // 1 of 3 = 33%
        #expect(breaker.currentState == .closed)
    }

    @Test func extraCallsInHalfOpenAreRefused() throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(2), minimumCalls: 2, openDuration: .seconds(1), permittedCallsInHalfOpen: 2))
        try breaker.fail(2)
        clock.advance(by: .seconds(1))
        let first = try breaker.acquire()
        let second = try breaker.acquire()
        #expect(!breaker.admitsCalls)
        let error = #expect(throws: CourierError.self) { try breaker.acquire() }
        #expect(error?.code == .circuitOpen)
        #expect(error?.isRetriable == true)
        #expect(error?.message.contains("half-open") == true)
        // One outcome in, the slot stays taken until the decision.
        breaker.recordSuccess(first)
        #expect(throws: CourierError.self) { try breaker.acquire() }
        breaker.recordSuccess(second)
        #expect(breaker.currentState == .closed)
        #expect(breaker.admitsCalls)
    }

    // MARK: Open duration

    @Test func openDurationGrowsOnConsecutiveTripsUpToTheMaximumAndResetsAfterAClose() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(
            window: .count(2),
            minimumCalls: 2,
            openDuration: .seconds(1),
            openDurationMultiplier: 2,
            maximumOpenDuration: .seconds(5),
            permittedCallsInHalfOpen: 1
        ))
        try breaker.fail(2)
        for seconds in [1, 2, 4, 5, 5] {
            let trial = try expectOpen(for: .seconds(seconds), breaker, clock)
            breaker.record(trial, error: brokerDown)
        }
        // A successful close forgets the streak.
        breaker.recordSuccess(try expectOpen(for: .seconds(5), breaker, clock))
        #expect(breaker.currentState == .closed)
        try breaker.fail(2)
        let trial = try expectOpen(for: .seconds(1), breaker, clock)
        breaker.record(trial, error: brokerDown)
        _ = try expectOpen(for: .seconds(2), breaker, clock)
        #expect(log.all.filter { $0.to == .open }.count == 8)
    }

    @Test func aLongOutageWithAGrowingOpenDurationStaysAtTheMaximum() throws {
        // A hundred consecutive trips: openDuration * 2^99 seconds does not fit in a Duration, and the cap
        // must apply before the conversion, not after it.
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(
            window: .count(1),
            minimumCalls: 1,
            openDuration: .seconds(2),
            openDurationMultiplier: 2,
            maximumOpenDuration: .seconds(60),
            permittedCallsInHalfOpen: 1
        ))
        try breaker.fail()
        for _ in 0..<100 {
            clock.advance(by: .seconds(60))
            try breaker.fail()
        }
        _ = try expectOpen(for: .seconds(60), breaker, clock)
    }

    @Test func aFixedOpenDurationDoesNotGrow() throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(1), minimumCalls: 1, openDuration: .seconds(3), permittedCallsInHalfOpen: 1))
        try breaker.fail()
        for _ in 0..<4 {
            let trial = try expectOpen(for: .seconds(3), breaker, clock)
            breaker.record(trial, error: brokerDown)
        }
    }

    // MARK: What is recorded

    @Test func errorsThatAreNotBrokerFailuresAreNotRecorded() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(4), failureRateThreshold: 100, minimumCalls: 2))
        for _ in 0..<5 {
            breaker.record(try breaker.acquire(), error: CourierError(.invalidMessage, "message x has an empty topic"))
            breaker.record(try breaker.acquire(), error: CourierError(.messageTooLarge, "too large"))
            breaker.record(try breaker.acquire(), error: CancellationError())
        }
        #expect(breaker.currentState == .closed)
        #expect(log.all.isEmpty)
        // Had those counted as successes, [x x f f] would be 50%, short of 100%.
        try breaker.fail(2)
        #expect(breaker.currentState == .open)
    }

    @Test func fatalAndForeignErrorsAreRecorded() throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(2), failureRateThreshold: 100, minimumCalls: 2))
        breaker.record(try breaker.acquire(), error: CourierError(.fatal, "connection is gone", isFatal: true))
        breaker.record(try breaker.acquire(), error: PlainError())
        #expect(breaker.currentState == .open)
        let recorded = CircuitBreakerConfiguration.brokerFailure
        #expect(recorded(CourierError.unavailable("x")))
        #expect(recorded(CourierError.outcomeUnknown("x")))
        #expect(recorded(PlainError()))
        #expect(!recorded(CancellationError()))
        #expect(!recorded(CourierError(.invalidMessage, "x")))
    }

    @Test func aCustomClassifierDecidesWhatCounts() throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(2), minimumCalls: 2, recordsError: { $0 is PlainError }))
        for _ in 0..<4 { breaker.record(try breaker.acquire(), error: brokerDown) }
        #expect(breaker.currentState == .closed)
        for _ in 0..<2 { breaker.record(try breaker.acquire(), error: PlainError()) }
        #expect(breaker.currentState == .open)
    }

    @Test func anUnrecordedErrorInHalfOpenGivesTheTrialSlotBack() async throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(2), minimumCalls: 2, openDuration: .seconds(1), permittedCallsInHalfOpen: 1))
        try breaker.fail(2)
        clock.advance(by: .seconds(1))
        await #expect(throws: CancellationError.self) {
            try await breaker.run { () async throws -> Int in throw CancellationError() }
        }
        #expect(breaker.currentState == .halfOpen)
        let permit = try breaker.acquire()
        breaker.release(permit)
        breaker.recordSuccess(try breaker.acquire())
        #expect(breaker.currentState == .closed)
    }

    @Test func runRecordsOutcomesAndRethrows() async throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(2), failureRateThreshold: 100, minimumCalls: 2))
        let thrown = await #expect(throws: CourierError.self) {
            try await breaker.run { () async throws -> Int in throw brokerDown }
        }
        #expect(thrown == brokerDown)
        #expect(try await breaker.run { 7 } == 7)
        #expect(breaker.currentState == .closed)  // [f s]
        for _ in 0..<2 { _ = try? await breaker.run { () async throws -> Int in throw brokerDown } }
        #expect(breaker.currentState == .open)
    }

    // MARK: Late outcomes

    @Test func lateOutcomesFromAnEarlierStateAreIgnored() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(2), failureRateThreshold: 50, minimumCalls: 2, openDuration: .seconds(1), permittedCallsInHalfOpen: 1))
        let stale = try breaker.acquire()  // a slow call started while closed
        try breaker.fail(2)
        #expect(breaker.currentState == .open)
        // It finishes while the breaker is open: ignored either way.
        breaker.recordSuccess(stale)
        breaker.record(stale, error: brokerDown)
        #expect(breaker.currentState == .open)

        clock.advance(by: .seconds(1))
        let trial = try breaker.acquire()
        #expect(breaker.currentState == .halfOpen)
        // A stale outcome is not a trial result, and a stale release frees no trial slot.
        breaker.record(stale, error: brokerDown)
        breaker.recordSuccess(stale)
        breaker.release(stale)
        #expect(breaker.currentState == .halfOpen)
        #expect(throws: CourierError.self) { try breaker.acquire() }

        breaker.recordSuccess(trial)
        #expect(breaker.currentState == .closed)
        // Nor does it count in the fresh closed window: one real failure is below the minimum.
        breaker.record(stale, error: brokerDown)
        breaker.record(trial, error: brokerDown)
        try breaker.fail()
        #expect(breaker.currentState == .closed)
        #expect(pairs(log) == ["closed->open", "open->half-open", "half-open->closed"])
    }

    @Test func trialPermitsOutstandingWhenAnOperatorStepsInAreIgnored() throws {
        let clock = VirtualClock()
        let (breaker, _) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(2), minimumCalls: 2, openDuration: .seconds(1), permittedCallsInHalfOpen: 1))
        try breaker.fail(2)
        clock.advance(by: .seconds(1))
        let trial = try breaker.acquire()
        breaker.forceOpen()
        breaker.recordSuccess(trial)
        #expect(breaker.currentState == .forcedOpen)
        breaker.reset()
        breaker.record(trial, error: brokerDown)
        try breaker.fail()
        #expect(breaker.currentState == .closed)
    }

    // MARK: Operator states

    @Test func forceOpenRefusesEverythingUntilReset() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(openDuration: .seconds(1)))
        breaker.forceOpen()
        breaker.forceOpen()  // no second transition
        #expect(breaker.currentState == .forcedOpen)
        #expect(!breaker.admitsCalls)
        clock.advance(by: .seconds(3_600))  // no open duration applies
        let error = #expect(throws: CourierError.self) { try breaker.acquire() }
        #expect(error?.code == .circuitOpen)
        #expect(error?.isRetriable == true)
        #expect(error?.message.contains("forced open") == true)
        #expect(error?.message.contains("reset()") == true)
        #expect(breaker.currentState == .forcedOpen)
        breaker.reset()
        #expect(breaker.currentState == .closed)
        try breaker.succeed()
        #expect(pairs(log) == ["closed->forced-open", "forced-open->closed"])
        #expect(log.all.map(\.reason) == ["forced open by an operator", "reset by an operator"])
    }

    @Test func disableLetsEverythingThroughAndRecordsNothing() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(window: .count(2), minimumCalls: 2))
        try breaker.fail()
        breaker.disable()
        try breaker.fail(100)
        #expect(breaker.currentState == .disabled)
        #expect(breaker.admitsCalls)
        breaker.reset()
        // Back to closed with an empty window: the failure before disable() is forgotten too.
        try breaker.fail()
        #expect(breaker.currentState == .closed)
        try breaker.fail()
        #expect(breaker.currentState == .open)
        #expect(pairs(log) == ["closed->disabled", "disabled->closed", "closed->open"])
    }

    @Test func resetClosesAnOpenBreakerAndForgetsTheTripStreak() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration(
            window: .count(1),
            minimumCalls: 1,
            openDuration: .seconds(1),
            openDurationMultiplier: 3,
            maximumOpenDuration: .seconds(100),
            permittedCallsInHalfOpen: 1
        ))
        try breaker.fail()
        breaker.record(try expectOpen(for: .seconds(1), breaker, clock), error: brokerDown)
        #expect(breaker.currentState == .open)  // now for 3s
        breaker.reset()
        #expect(breaker.currentState == .closed)
        #expect(breaker.admitsCalls)
        try breaker.fail()
        _ = try expectOpen(for: .seconds(1), breaker, clock)
        #expect(pairs(log) == ["closed->open", "open->half-open", "half-open->open", "open->closed", "closed->open", "open->half-open"])
        // reset() on a closed breaker is not a transition.
        let count = log.all.count
        breaker.reset()
        breaker.reset()
        #expect(log.all.count == count + 1)  // half-open -> closed only
    }

    @Test func operatorStatesMoveBetweenEachOther() throws {
        let clock = VirtualClock()
        let (breaker, log) = makeBreaker(clock, CircuitBreakerConfiguration())
        breaker.forceOpen()
        breaker.disable()
        breaker.forceOpen()
        breaker.reset()
        #expect(pairs(log) == ["closed->forced-open", "forced-open->disabled", "disabled->forced-open", "forced-open->closed"])
    }

    // MARK: Observing transitions

    @Test func everyTransitionReachesObserversAndTheStreamInOrder() async throws {
        let clock = VirtualClock()
        let breaker = CircuitBreaker(
            name: "kafka-east",
            configuration: CircuitBreakerConfiguration(window: .count(2), minimumCalls: 2, openDuration: .seconds(10), permittedCallsInHalfOpen: 1),
            clock: clock
        )
        let stream = breaker.transitions()
        let observed = Log<Transition>()
        breaker.onTransition { observed.append($0) }
        let removed = Log<Transition>()
        let removedID = breaker.onTransition { removed.append($0) }

        try breaker.fail(2)  // closed -> open at t=0
        breaker.removeObserver(removedID)
        clock.advance(by: .seconds(10))
        let trial = try breaker.acquire()  // open -> half-open at t=10
        clock.advance(by: .seconds(1))
        breaker.recordSuccess(trial)  // half-open -> closed at t=11
        breaker.forceOpen()  // closed -> forced-open
        breaker.disable()  // forced-open -> disabled
        breaker.reset()  // disabled -> closed
        try breaker.fail(2)  // closed -> open
        breaker.reset()  // open -> closed

        let expected: [(State, State)] = [
            (.closed, .open), (.open, .halfOpen), (.halfOpen, .closed), (.closed, .forcedOpen),
            (.forcedOpen, .disabled), (.disabled, .closed), (.closed, .open), (.open, .closed),
        ]
        var streamed: [Transition] = []
        for await transition in stream {
            streamed.append(transition)
            if streamed.count == expected.count { break }
        }
        for transitions in [streamed, observed.all] {
            #expect(transitions.count == expected.count)
            for (transition, (from, to)) in zip(transitions, expected) {
                #expect(transition.from == from && transition.to == to, "\(transition)")
                #expect(transition.breaker == "kafka-east")
                #expect(!transition.reason.isEmpty)
            }
            #expect(transitions.map(\.at.offset) == [.zero, .seconds(10), .seconds(11), .seconds(11), .seconds(11), .seconds(11), .seconds(11), .seconds(11)])
        }
        #expect(streamed == observed.all)
        #expect(removed.all.map(\.to) == [.open])
        #expect(streamed.first?.description.hasPrefix("breaker kafka-east: closed -> open (") == true)
    }

    @Test func severalStreamsEachSeeEveryTransition() async throws {
        let clock = VirtualClock()
        let breaker = CircuitBreaker(name: "b", configuration: CircuitBreakerConfiguration(), clock: clock)
        let first = breaker.transitions()
        let second = breaker.transitions()
        breaker.forceOpen()
        breaker.reset()
        for stream in [first, second] {
            var seen: [State] = []
            for await transition in stream {
                seen.append(transition.to)
                if seen.count == 2 { break }
            }
            #expect(seen == [.forcedOpen, .closed])
        }
    }

    @Test func stateNames() {
        #expect([State.closed, .open, .halfOpen, .forcedOpen, .disabled].map(\.description) == ["closed", "open", "half-open", "forced-open", "disabled"])
    }

    // MARK: Configuration

    static let invalidConfigurations: [(String, CircuitBreakerConfiguration)] = {
        func with(_ change: (inout CircuitBreakerConfiguration) -> Void) -> CircuitBreakerConfiguration {
            var configuration = CircuitBreakerConfiguration()
            change(&configuration)
            return configuration
        }
        return [
            ("window", with { $0.window = .count(0) }),
            ("window", with { $0.window = .time(seconds: 0) }),
            ("failureRateThreshold", with { $0.failureRateThreshold = 101 }),
            ("failureRateThreshold", with { $0.failureRateThreshold = -1 }),
            ("failureRateThreshold", with { $0.failureRateThreshold = .nan }),
            ("slowCallRateThreshold", with { $0.slowCallRateThreshold = 100.5 }),
            ("slowCallDurationMs", with { $0.slowCallDuration = .zero }),
            ("minimumCalls", with { $0.minimumCalls = 0 }),
            ("openDurationMs", with { $0.openDuration = .zero }),
            ("openDurationMultiplier", with { $0.openDurationMultiplier = 0.5 }),
            ("maximumOpenDurationMs", with { $0.maximumOpenDuration = .seconds(1) }),
            ("permittedCallsInHalfOpen", with { $0.permittedCallsInHalfOpen = 0 }),
        ]
    }()

    @Test(arguments: invalidConfigurations)
    func validateNamesTheField(field: String, configuration: CircuitBreakerConfiguration) {
        let error = #expect(throws: CourierError.self) { try configuration.validate() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.hasPrefix("breaker.\(field): ") == true, "\(error?.message ?? "")")
        let prefixed = #expect(throws: CourierError.self) { try configuration.validate(field: "transports[1].breaker") }
        #expect(prefixed?.message.hasPrefix("transports[1].breaker.\(field): ") == true, "\(prefixed?.message ?? "")")
    }

    @Test func defaultsAreValidAndTheDocumentedOnes() throws {
        let configuration = CircuitBreakerConfiguration()
        try configuration.validate()
        #expect(configuration.window == .count(20))
        #expect(configuration.failureRateThreshold == 50)
        #expect(configuration.slowCallRateThreshold == 100)
        #expect(configuration.slowCallDuration == .seconds(5))
        #expect(configuration.minimumCalls == 5)
        #expect(configuration.openDuration == .seconds(2))
        #expect(configuration.openDurationMultiplier == 1)
        #expect(configuration.maximumOpenDuration == .seconds(60))
        #expect(configuration.permittedCallsInHalfOpen == 3)
        // The edges of each range are accepted.
        var edges = configuration
        edges.failureRateThreshold = 0
        edges.slowCallRateThreshold = 100
        edges.minimumCalls = 1
        edges.openDurationMultiplier = 1
        edges.maximumOpenDuration = edges.openDuration
        edges.permittedCallsInHalfOpen = 1
        edges.window = .time(seconds: 1)
        try edges.validate()
    }
}
