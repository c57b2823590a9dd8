import Courier

/// A broker fault a test injects into a ``MemoryBroker``, by hand or in a timed script.
public enum MemoryFault: Sendable, Hashable, CustomStringConvertible {
    /// The next `count` publishes fail with an injected error (retriable, or fatal).
    case failPublishes(count: Int, retriable: Bool)
    /// Each publish fails with `probability`, drawn from a generator seeded with `seed` (deterministic).
    case failPublishesRandomly(probability: Double, seed: UInt64)
    /// The broker goes down: publishes and subscribes fail as unavailable, unsettled deliveries return to
    /// their queues, held confirms end with an unknown outcome. Subscriptions stay and resume on ``up``.
    case down
    /// The broker comes back up and delivery resumes.
    case up
    /// Publishes are stored (and delivered) but their confirms are held until ``releaseConfirms``.
    case holdConfirms
    /// Held confirms are released, in order.
    case releaseConfirms
    /// Each confirm arrives `delay` (on the broker's clock) after the message is stored; `.zero` ends it.
    case delayConfirms(Duration)
    /// The next `count` deliveries are each delivered twice.
    case duplicateDeliveries(count: Int)
    /// Every subscription (of `topic`, or all when `nil`) ends with a subscription-lost error mid-stream;
    /// their unsettled deliveries return to the queue.
    case dropSubscriptions(topic: String?)

    public var description: String {
        switch self {
        case .failPublishes(let count, let retriable): "fail the next \(count) publishes (\(retriable ? "retriable" : "fatal"))"
        case .failPublishesRandomly(let probability, let seed): "fail publishes with probability \(probability) (seed \(seed))"
        case .down: "broker down"
        case .up: "broker up"
        case .holdConfirms: "hold confirms"
        case .releaseConfirms: "release confirms"
        case .delayConfirms(let delay): "delay confirms by \(delay)"
        case .duplicateDeliveries(let count): "duplicate the next \(count) deliveries"
        case .dropSubscriptions(let topic): "drop subscriptions" + (topic.map { " of \($0)" } ?? "")
        }
    }
}

/// A deterministic pseudo-random generator (SplitMix64), so random fault scripts replay exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
