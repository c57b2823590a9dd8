import Foundation

/// A point on a ``CourierClock``'s monotonic time line.
public struct ClockInstant: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Time since the clock's origin.
    public var offset: Duration

    public init(offset: Duration) { self.offset = offset }

    public static func < (lhs: ClockInstant, rhs: ClockInstant) -> Bool { lhs.offset < rhs.offset }
    public static func + (lhs: ClockInstant, rhs: Duration) -> ClockInstant { ClockInstant(offset: lhs.offset + rhs) }
    public static func - (lhs: ClockInstant, rhs: ClockInstant) -> Duration { lhs.offset - rhs.offset }
    public var description: String { "t+\(offset)" }
}

/// The source of time for the whole library: backoff, timeouts, breaker windows and delayed delivery all
/// read it, so a test can swap in a ``VirtualClock`` and advance time instead of sleeping.
public protocol CourierClock: Sendable {
    /// Monotonic now.
    func now() -> ClockInstant
    /// Wall-clock now, for timestamps written into messages.
    func wallClockNow() -> Date
    /// Suspends until `deadline`; throws `CancellationError` if the task is cancelled first.
    func sleep(until deadline: ClockInstant) async throws
}

extension CourierClock {
    /// Suspends for `duration`; throws `CancellationError` if the task is cancelled first.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now() + duration)
    }
}

/// Real time: `ContinuousClock` for intervals and the system's wall clock for timestamps.
public struct SystemClock: CourierClock {
    private let origin: ContinuousClock.Instant

    public init() { origin = ContinuousClock.now }

    public func now() -> ClockInstant { ClockInstant(offset: ContinuousClock.now - origin) }
    public func wallClockNow() -> Date { Date() }

    public func sleep(until deadline: ClockInstant) async throws {
        try await Task.sleep(until: origin + deadline.offset, clock: .continuous)
    }
}
