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

    public init(answers: [Answer], failovers: [Int64]) {
        self.answers = answers.sorted { $0.atMilliseconds < $1.atMilliseconds }
        self.failovers = failovers.sorted()
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
