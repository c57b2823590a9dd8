import Synchronization

/// A monotonically increasing count held in one atomic: incrementing takes no lock.
public final class AtomicCounter: CounterHandler {
    private let total = Atomic<Int64>(0)

    public init() {}
    public func increment(by amount: Int64 = 1) { total.wrappingAdd(amount, ordering: .relaxed) }
    public func reset() { total.store(0, ordering: .relaxed) }
    public var value: Int64 { total.load(ordering: .relaxed) }
}

/// A value that goes up and down (queue depth, in-flight messages, breaker state), held in one atomic.
/// Fractions are kept to a millionth.
public final class AtomicGauge: RecorderHandler {
    private static let scale = 1_000_000.0
    private let micros = Atomic<Int64>(0)

    public init() {}
    public func record(_ value: Int64) { micros.store(value &* Int64(Self.scale), ordering: .relaxed) }
    public func record(_ value: Double) { micros.store(Int64((value * Self.scale).rounded()), ordering: .relaxed) }
    /// Moves the gauge by `delta` without reading it first (safe from many tasks at once).
    public func add(_ delta: Int64) { micros.wrappingAdd(delta &* Int64(Self.scale), ordering: .relaxed) }
    public var value: Double { Double(micros.load(ordering: .relaxed)) / Self.scale }
}

/// A latency histogram with fixed bucket bounds: one atomic per bucket plus the sum, so an observation is
/// two atomic adds (the count is the buckets' total).
public final class AtomicHistogram: TimerHandler {
    /// Upper bounds in seconds, from 100 µs to 10 s: wide enough for a memory publish and a slow broker.
    public static let defaultBounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Upper bounds in seconds, ascending; a last `+Inf` bucket is implied.
    public let bounds: [Double]
    private let boundsInNanoseconds: [Int64]
    private let buckets: [AtomicCounter]
    private let sumNanoseconds = Atomic<Int64>(0)

    public init(bounds: [Double] = AtomicHistogram.defaultBounds) {
        let sorted = bounds.filter { $0 > 0 && $0.isFinite }.sorted()
        self.bounds = sorted
        boundsInNanoseconds = sorted.map { Int64($0 * 1e9) }
        buckets = (0...sorted.count).map { _ in AtomicCounter() }
    }

    public func recordNanoseconds(_ duration: Int64) {
        let duration = max(0, duration)
        var index = 0
        while index < boundsInNanoseconds.count, duration > boundsInNanoseconds[index] { index += 1 }
        buckets[index].increment(by: 1)
        sumNanoseconds.wrappingAdd(duration, ordering: .relaxed)
    }

    /// Observations at or below each bound, cumulative, the last one being `+Inf` (equal to ``count``).
    public var cumulativeCounts: [Int64] {
        var running: Int64 = 0
        return buckets.map { bucket in
            running += bucket.value
            return running
        }
    }

    public var count: Int64 { cumulativeCounts.last ?? 0 }
    public var sumSeconds: Double { Double(sumNanoseconds.load(ordering: .relaxed)) / 1e9 }
}
