import Synchronization

/// The consumer's statistics as atomic counters: the hot path adds without taking a lock.
final class ConsumerCounters: Sendable {
    let consumed = Atomic<Int>(0)
    let duplicatesDropped = Atomic<Int>(0)
    let retried = Atomic<Int>(0)
    let redelivered = Atomic<Int>(0)
    let deadLettered = Atomic<Int>(0)
    let discarded = Atomic<Int>(0)
    let lostByChoice = Atomic<Int>(0)
    let pauses = Atomic<Int>(0)

    var snapshot: ConsumerStatistics {
        var statistics = ConsumerStatistics()
        statistics.consumed = consumed.load(ordering: .relaxed)
        statistics.duplicatesDropped = duplicatesDropped.load(ordering: .relaxed)
        statistics.retried = retried.load(ordering: .relaxed)
        statistics.redelivered = redelivered.load(ordering: .relaxed)
        statistics.deadLettered = deadLettered.load(ordering: .relaxed)
        statistics.discarded = discarded.load(ordering: .relaxed)
        statistics.lostByChoice = lostByChoice.load(ordering: .relaxed)
        statistics.pauses = pauses.load(ordering: .relaxed)
        return statistics
    }
}

extension Atomic<Int> {
    /// Adds one, relaxed (a statistic, not a synchronisation point).
    func increment() { add(1, ordering: .relaxed) }
}
