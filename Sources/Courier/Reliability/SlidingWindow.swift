/// The outcomes a ``CircuitBreaker`` judges rates over: the last N calls, or the last N seconds.
struct SlidingWindow {
    struct Totals {
        var calls = 0
        var failures = 0
        var slow = 0
    }

    private struct Bucket {
        var second: Int64 = .min
        var totals = Totals()
    }

    private let kind: CircuitBreakerConfiguration.Window
    /// Count window: one bucket per call (its totals are 0/1). Time window: one bucket per second.
    private var buckets: [Bucket]
    private var next = 0
    private var running = Totals()

    init(_ kind: CircuitBreakerConfiguration.Window) {
        self.kind = kind
        switch kind {
        case .count(let size): buckets = Array(repeating: Bucket(), count: max(1, size))
        case .time(let seconds): buckets = Array(repeating: Bucket(), count: max(1, seconds))
        }
    }

    mutating func record(failed: Bool, slow: Bool, at now: ClockInstant) {
        let outcome = Totals(calls: 1, failures: failed ? 1 : 0, slow: slow ? 1 : 0)
        switch kind {
        case .count:
            subtract(buckets[next].totals)
            buckets[next] = Bucket(second: 0, totals: outcome)
            add(outcome)
            next = (next + 1) % buckets.count
        case .time:
            let second = now.offset.components.seconds
            expire(before: second)
            let index = Int(second.magnitude % UInt64(buckets.count))
            if buckets[index].second != second {
                subtract(buckets[index].totals)
                buckets[index] = Bucket(second: second)
            }
            buckets[index].totals.calls += 1
            buckets[index].totals.failures += outcome.failures
            buckets[index].totals.slow += outcome.slow
            add(outcome)
        }
    }

    /// The totals over the window as of `now`.
    mutating func totals(at now: ClockInstant) -> Totals {
        if case .time = kind { expire(before: now.offset.components.seconds) }
        return running
    }

    /// Drops time buckets older than the window.
    private mutating func expire(before second: Int64) {
        let oldest = second - Int64(buckets.count) + 1
        for index in buckets.indices where buckets[index].second != .min && buckets[index].second < oldest {
            subtract(buckets[index].totals)
            buckets[index] = Bucket()
        }
    }

    private mutating func add(_ totals: Totals) {
        running.calls += totals.calls
        running.failures += totals.failures
        running.slow += totals.slow
    }

    private mutating func subtract(_ totals: Totals) {
        running.calls -= totals.calls
        running.failures -= totals.failures
        running.slow -= totals.slow
    }
}
