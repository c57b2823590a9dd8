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

/// The deterministic generator random fault scripts draw from (SplitMix64, shared with the core's
/// seeded jitter), so a seed replays exactly.
public typealias SeededGenerator = SplitMix64
