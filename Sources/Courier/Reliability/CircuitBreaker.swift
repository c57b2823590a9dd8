import Synchronization

/// A circuit breaker with resilience4j's semantics.
///
/// Closed: calls pass and their outcomes fill a sliding window; once it holds ``CircuitBreakerConfiguration/minimumCalls``
/// and the failure rate or slow-call rate reaches its threshold, the breaker opens. Open: calls are
/// refused with ``CourierError/Code/circuitOpen`` until the open duration has passed (growing on
/// consecutive trips if configured), then the next call finds it half-open. Half-open: a fixed number of
/// trial calls pass; their failure rate closes or reopens it. Operators can force it open or disable it.
/// Every transition is reported through ``transitions()`` and ``onTransition(_:)``.
public final class CircuitBreaker: Sendable {
    public enum State: Sendable, Hashable, CustomStringConvertible {
        case closed
        case open
        case halfOpen
        case forcedOpen
        case disabled

        public var description: String {
            switch self {
            case .closed: "closed"
            case .open: "open"
            case .halfOpen: "half-open"
            case .forcedOpen: "forced-open"
            case .disabled: "disabled"
            }
        }
    }

    /// A change of state, with the reason in words.
    public struct Transition: Sendable, Hashable, CustomStringConvertible {
        public let breaker: String
        public let from: State
        public let to: State
        public let at: ClockInstant
        public let reason: String
        public var description: String { "breaker \(breaker): \(from) -> \(to) (\(reason))" }
    }

    /// Permission to make one call; hand it back through ``record(_:error:)`` or ``recordSuccess(_:)``.
    public struct Permit: Sendable {
        let started: ClockInstant
        let generation: Int
    }

    public let name: String
    public let configuration: CircuitBreakerConfiguration
    private let clock: any CourierClock
    private let state: Mutex<BreakerState>
    /// The generation while the breaker is closed or disabled (every call passes), else -1: ``acquire()``
    /// reads it without the lock, which pipelines take for every message from every core. Written under the
    /// lock by each transition.
    private let passingGeneration = Atomic<Int>(0)
    private let observers = Mutex<[UInt64: @Sendable (Transition) -> Void]>([:])

    private struct BreakerState {
        var state: State = .closed
        var window: SlidingWindow
        /// Bumped on every transition, so late outcomes of calls from an earlier state are ignored.
        var generation = 0
        var openUntil: ClockInstant?
        var consecutiveTrips = 0
        var halfOpenIssued = 0
        var halfOpen = SlidingWindow.Totals()
        var nextObserver: UInt64 = 0
    }

    public init(name: String, configuration: CircuitBreakerConfiguration = CircuitBreakerConfiguration(), clock: any CourierClock = SystemClock()) {
        self.name = name
        self.configuration = configuration
        self.clock = clock
        state = Mutex(BreakerState(window: SlidingWindow(configuration.window)))
    }

    /// The current state (an open breaker whose time is up reports half-open only once a call arrives).
    public var currentState: State { state.withLock { $0.state } }

    /// Whether a call would be let through right now, without taking a permit.
    public var admitsCalls: Bool {
        let now = clock.now()
        return state.withLock { state in
            switch state.state {
            case .closed, .disabled: true
            case .halfOpen: state.halfOpenIssued < configuration.permittedCallsInHalfOpen
            case .forcedOpen: false
            case .open: (state.openUntil ?? now) <= now
            }
        }
    }

    /// Takes a permit, or throws ``CourierError/Code/circuitOpen`` saying until when calls are refused.
    public func acquire() throws(CourierError) -> Permit {
        let now = clock.now()
        let passing = passingGeneration.load(ordering: .acquiring)
        if passing >= 0 { return Permit(started: now, generation: passing) }
        var transitions: [Transition] = []
        defer { publish(transitions) }
        return try state.withLock { state throws(CourierError) -> Permit in
            if state.state == .open, let until = state.openUntil, until <= now {
                transitions.append(move(&state, to: .halfOpen, at: now, reason: "open duration passed; letting \(configuration.permittedCallsInHalfOpen) trial calls through"))
            }
            switch state.state {
            case .closed, .disabled:
                break
            case .halfOpen:
                guard state.halfOpenIssued < configuration.permittedCallsInHalfOpen else {
                    throw refusal("is half-open and its \(configuration.permittedCallsInHalfOpen) trial calls are taken")
                }
                state.halfOpenIssued += 1
            case .open:
                let wait = (state.openUntil ?? now) - now
                throw refusal("is open; calls are refused for another \(wait.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
            case .forcedOpen:
                throw refusal("was forced open by an operator; call reset() to close it")
            }
            return Permit(started: now, generation: state.generation)
        }
    }

    /// Records a successful call.
    public func recordSuccess(_ permit: Permit) { record(permit, failed: false) }

    /// Records a failed call; errors the configuration does not count just give the permit back.
    public func record(_ permit: Permit, error: any Error) {
        if configuration.recordsError(error) {
            record(permit, failed: true)
        } else {
            release(permit)
        }
    }

    /// Gives back a permit whose call neither failed nor succeeded (cancelled, or an error not counted).
    public func release(_ permit: Permit) {
        state.withLock { state in
            if state.generation == permit.generation, state.state == .halfOpen {
                state.halfOpenIssued = max(0, state.halfOpenIssued - 1)
            }
        }
    }

    /// Runs `operation` under the breaker: refused when open, its outcome recorded.
    public func run<Result>(_ operation: () async throws -> Result) async throws -> Result {
        let permit = try acquire()
        do {
            let result = try await operation()
            recordSuccess(permit)
            return result
        } catch {
            record(permit, error: error)
            throw error
        }
    }

    /// Operator: refuse every call until ``reset()``.
    public func forceOpen() { transition(to: .forcedOpen, reason: "forced open by an operator") }

    /// Operator: let every call through and record nothing until ``reset()``.
    public func disable() { transition(to: .disabled, reason: "disabled by an operator") }

    /// Operator: back to closed with an empty window.
    public func reset() { transition(to: .closed, reason: "reset by an operator") }

    /// Calls `observer` with every transition from now on (outside the breaker's lock).
    @discardableResult
    public func onTransition(_ observer: @escaping @Sendable (Transition) -> Void) -> UInt64 {
        let id = state.withLock { state -> UInt64 in
            state.nextObserver += 1
            return state.nextObserver
        }
        observers.withLock { $0[id] = observer }
        return id
    }

    /// Stops calling the observer `id` returned by ``onTransition(_:)``.
    public func removeObserver(_ id: UInt64) { _ = observers.withLock { $0.removeValue(forKey: id) } }

    /// The transitions from now on, as an `AsyncStream` that ends when the consumer stops iterating.
    public func transitions() -> AsyncStream<Transition> {
        let (stream, continuation) = AsyncStream<Transition>.makeStream()
        let id = onTransition { continuation.yield($0) }
        continuation.onTermination = { [weak self] _ in self?.removeObserver(id) }
        return stream
    }

    // MARK: Internals

    private func record(_ permit: Permit, failed: Bool) {
        let now = clock.now()
        let slow = now - permit.started > configuration.slowCallDuration
        var transitions: [Transition] = []
        defer { publish(transitions) }
        state.withLock { state in
            guard state.generation == permit.generation else { return }
            switch state.state {
            case .closed:
                state.window.record(failed: failed, slow: slow, at: now)
                if let reason = tripReason(state.window.totals(at: now)) {
                    transitions.append(trip(&state, at: now, reason: reason))
                }
            case .halfOpen:
                state.halfOpen.calls += 1
                state.halfOpen.failures += failed ? 1 : 0
                state.halfOpen.slow += slow ? 1 : 0
                guard state.halfOpen.calls >= configuration.permittedCallsInHalfOpen else { return }
                if let reason = tripReason(state.halfOpen, minimum: 1) {
                    transitions.append(trip(&state, at: now, reason: "trial calls: " + reason))
                } else {
                    state.consecutiveTrips = 0
                    transitions.append(move(&state, to: .closed, at: now, reason: "\(state.halfOpen.calls) trial calls succeeded"))
                }
            case .open, .forcedOpen, .disabled:
                break
            }
        }
    }

    /// As in resilience4j, a count window's minimum is capped at its size: it never holds more calls, so a
    /// larger minimum would keep the breaker closed for ever.
    private var minimumCalls: Int {
        guard case .count(let size) = configuration.window else { return configuration.minimumCalls }
        return min(configuration.minimumCalls, max(1, size))
    }

    /// Why the totals trip the breaker, or nil.
    private func tripReason(_ totals: SlidingWindow.Totals, minimum: Int? = nil) -> String? {
        guard totals.calls >= (minimum ?? minimumCalls), totals.calls > 0 else { return nil }
        let failureRate = Double(totals.failures) * 100 / Double(totals.calls)
        let slowRate = Double(totals.slow) * 100 / Double(totals.calls)
        if totals.failures > 0, failureRate >= configuration.failureRateThreshold {
            return "\(totals.failures) of \(totals.calls) calls failed (\(Int(failureRate))% >= \(Int(configuration.failureRateThreshold))%)"
        }
        if totals.slow > 0, slowRate >= configuration.slowCallRateThreshold {
            return "\(totals.slow) of \(totals.calls) calls were slower than \(configuration.slowCallDuration) (\(Int(slowRate))%)"
        }
        return nil
    }

    private func trip(_ state: inout BreakerState, at now: ClockInstant, reason: String) -> Transition {
        state.consecutiveTrips += 1
        let maximum = configuration.maximumOpenDuration
        var open = configuration.openDuration.seconds
        for _ in 1..<max(1, state.consecutiveTrips) where open < maximum.seconds { open *= configuration.openDurationMultiplier }
        // Cap in seconds first: after some 70 trips in a row the uncapped product no longer fits in a Duration.
        let duration = open < maximum.seconds ? Duration.seconds(open) : maximum
        let transition = move(&state, to: .open, at: now, reason: reason)
        state.openUntil = now + duration
        return transition
    }

    private func move(_ state: inout BreakerState, to next: State, at now: ClockInstant, reason: String) -> Transition {
        let transition = Transition(breaker: name, from: state.state, to: next, at: now, reason: reason)
        state.state = next
        state.generation += 1
        passingGeneration.store(next == .closed || next == .disabled ? state.generation : -1, ordering: .releasing)
        state.openUntil = nil
        state.halfOpenIssued = 0
        state.halfOpen = SlidingWindow.Totals()
        if next == .closed { state.window = SlidingWindow(configuration.window) }
        return transition
    }

    private func transition(to next: State, reason: String) {
        let now = clock.now()
        let transition = state.withLock { state -> Transition? in
            if next == .closed {
                state.consecutiveTrips = 0
                state.window = SlidingWindow(configuration.window)
            }
            guard state.state != next else { return nil }
            return move(&state, to: next, at: now, reason: reason)
        }
        publish(transition.map { [$0] } ?? [])
    }

    private func publish(_ transitions: [Transition]) {
        guard !transitions.isEmpty else { return }
        let current = observers.withLock { Array($0.values) }
        for transition in transitions { current.forEach { $0(transition) } }
    }

    private func refusal(_ what: String) -> CourierError {
        CourierError(.circuitOpen, "circuit breaker \(name) \(what)", isRetriable: true)
    }
}
