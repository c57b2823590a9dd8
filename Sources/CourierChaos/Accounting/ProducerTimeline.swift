/// When the producer got each answer and raised each event, for failover timings.
public struct ProducerTimeline: Sendable, Hashable {
    /// An answer: a confirm by `transport`, or `transport == nil` for a message that went to the spool.
    public struct Answer: Sendable, Hashable {
        public var atMilliseconds: Int64
        public var transport: String?

        public init(atMilliseconds: Int64, transport: String?) {
            self.atMilliseconds = atMilliseconds
            self.transport = transport
        }
    }

    /// Answers in time order.
    public var answers: [Answer]
    /// Times of the producer's failover events (traffic left the preferred transport), in order.
    public var failovers: [Int64]
    /// When messages entered the spool (+1) and left it through the relay (-1), in order.
    public var spoolChanges: [SpoolChange]

    /// A message entering (+1) or leaving (-1) the spool.
    public struct SpoolChange: Sendable, Hashable {
        public var atMilliseconds: Int64
        public var change: Int

        public init(atMilliseconds: Int64, change: Int) {
            self.atMilliseconds = atMilliseconds
            self.change = change
        }
    }

    public init(answers: [Answer], failovers: [Int64], spoolChanges: [SpoolChange] = []) {
        self.answers = answers.sorted { $0.atMilliseconds < $1.atMilliseconds }
        self.failovers = failovers.sorted()
        self.spoolChanges = spoolChanges.sorted { $0.atMilliseconds < $1.atMilliseconds }
    }

    /// Messages in the spool at `time` (by the ledger's rows).
    func spoolBacklog(at time: Int64) -> Int {
        spoolChanges.prefix { $0.atMilliseconds <= time }.reduce(0) { $0 + $1.change }
    }

    /// The first moment at or after `time` when the spool holds nothing (by the ledger's rows), nil if never.
    func spoolEmpty(after time: Int64) -> Int64? {
        var backlog = 0
        var index = spoolChanges.startIndex
        while index < spoolChanges.endIndex, spoolChanges[index].atMilliseconds <= time {
            backlog += spoolChanges[index].change
            index += 1
        }
        if backlog <= 0 { return time }
        for change in spoolChanges[index...] {
            backlog += change.change
            if backlog <= 0 { return change.atMilliseconds }
        }
        return nil
    }

    /// The first answer at or after `time` that satisfies `matches`.
    func firstAnswer(after time: Int64, where matches: (Answer) -> Bool) -> Answer? {
        var low = 0, high = answers.count
        while low < high {
            let middle = (low + high) / 2
            if answers[middle].atMilliseconds < time { low = middle + 1 } else { high = middle }
        }
        return answers[low...].first(where: matches)
    }
}
