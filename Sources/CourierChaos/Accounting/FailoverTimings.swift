/// Failover timings over every fault that took the preferred transport down, in milliseconds.
public struct FailoverTimings: Sendable, Hashable, Codable {
    /// Per fault: fault → the producer noticed (a failover event or the first message spooled).
    public var detect: [Int64]
    /// Per fault: fault → the first message answered by a fallback (another transport or the spool).
    public var firstFallbackAnswer: [Int64]
    /// Per fault: fault undone → the first confirm by the preferred transport again.
    public var failback: [Int64]
    /// Per fault: fault undone → the spool empty again (new publishes queue behind a spool backlog, so
    /// until then the producer answers from the spool and at the relay's pace).
    public var spoolDrained: [Int64]
    /// Faults that found the producer already answering from its spool (a backlog from an earlier fault):
    /// their detection and fallback are not timed, since no failover happened.
    public var startedWhileSpooling: Int
    /// Faults where the producer never noticed, never used a fallback, or never came back (counted, not timed).
    public var missing: Int

    public init(detect: [Int64] = [], firstFallbackAnswer: [Int64] = [], failback: [Int64] = [], spoolDrained: [Int64] = [], startedWhileSpooling: Int = 0, missing: Int = 0) {
        self.detect = detect
        self.firstFallbackAnswer = firstFallbackAnswer
        self.failback = failback
        self.spoolDrained = spoolDrained
        self.startedWhileSpooling = startedWhileSpooling
        self.missing = missing
    }

    /// Times each fault of `faults` against the producer's `timeline`; `primary` names the preferred transport.
    public init(faults: [FaultRecord], timeline: ProducerTimeline, primary: String) {
        self.init()
        for fault in faults where fault.takesPrimaryDown {
            let start = fault.startedAtMilliseconds
            let end = fault.endedAtMilliseconds ?? Int64.max
            if timeline.spoolBacklog(at: start) > 0 {
                startedWhileSpooling += 1
            } else {
                let fallback = timeline.firstAnswer(after: start) { $0.transport != primary }.filter { $0.atMilliseconds <= end }
                let failover = timeline.failovers.first { $0 >= start && $0 <= end }
                if let noticed = [failover, fallback?.atMilliseconds].compactMap({ $0 }).min() {
                    detect.append(noticed - start)
                } else {
                    missing += 1
                }
                if let fallback { firstFallbackAnswer.append(fallback.atMilliseconds - start) }
            }
            if let ended = fault.endedAtMilliseconds {
                if let back = timeline.firstAnswer(after: ended, where: { $0.transport == primary }) {
                    failback.append(back.atMilliseconds - ended)
                } else {
                    missing += 1
                }
                if let empty = timeline.spoolEmpty(after: ended) { spoolDrained.append(empty - ended) }
            }
        }
    }

    /// The median of `values` (the mean of the middle two for an even count), nil when empty.
    public static func median(_ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

extension Optional where Wrapped == ProducerTimeline.Answer {
    fileprivate func filter(_ keep: (Wrapped) -> Bool) -> Wrapped? { flatMap { keep($0) ? $0 : nil } }
}
