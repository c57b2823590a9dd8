/// How many messages, publishers, subscribers and topics each scenario uses.
///
/// ``short`` keeps a run of the in-memory transport well under a few seconds (for `swift test`);
/// ``full`` uses the counts of the conformance reference (thousands of messages, broker restarts).
/// Change single fields to fit a slow broker: `var counts = ConformanceCounts.full; counts.reconnectMessages = 1000`.
public struct ConformanceCounts: Sendable, Hashable {
    /// Scenario 1: messages published and read back field by field.
    public var roundTripMessages: Int
    /// Scenario 2: messages published concurrently.
    public var concurrentMessages: Int
    /// Scenario 2: concurrent publishing tasks.
    public var concurrentPublishers: Int
    /// Scenario 2: subscribers (group members where the transport has groups).
    public var concurrentSubscribers: Int
    /// Scenario 3: topics subscribed and published at once.
    public var topics: Int
    /// Scenario 3: messages on each topic.
    public var messagesPerTopic: Int
    /// Scenario 4: messages published.
    public var nackMessages: Int
    /// Scenario 4: how many of the first messages are nacked once.
    public var nackedMessages: Int
    /// Scenario 6: messages published.
    public var resumeMessages: Int
    /// Scenario 6: subscriber instances that read the messages one after another.
    public var resumeRounds: Int
    /// Scenario 7: subscribers opened and closed at once.
    public var closingSubscribers: Int
    /// Scenario 7: messages published after the subscribers closed.
    public var afterCloseMessages: Int
    /// Scenario 8: messages published.
    public var errorMessages: Int
    /// Scenario 8: how often each message is nacked before it is acked.
    public var nackRounds: Int
    /// Scenario 9: ordering keys, each published by a task of its own.
    public var orderingKeys: Int
    /// Scenario 9: messages per ordering key.
    public var messagesPerKey: Int
    /// Scenario 10: messages in flight when the publisher closes.
    public var flushMessages: Int
    /// Scenario 11: messages on each of the three topics.
    public var isolationMessages: Int
    /// Scenario 12: messages; half are acked before the cancel.
    public var cancellationMessages: Int
    /// Scenario 13: messages published.
    public var groupMessages: Int
    /// Scenario 13: members in each of the two groups.
    public var groupMembers: Int
    /// Scenario 14: messages published.
    public var reconnectMessages: Int
    /// Scenario 14: broker restarts during the run.
    public var restarts: Int
    /// Scenario 14: concurrent publishing tasks.
    public var reconnectPublishers: Int
    /// Scenario 15: messages published by the foreign client.
    public var foreignMessages: Int

    /// Every count, by name; start from ``short`` or ``full`` to change a few.
    public init(
        roundTripMessages: Int, concurrentMessages: Int, concurrentPublishers: Int, concurrentSubscribers: Int,
        topics: Int, messagesPerTopic: Int, nackMessages: Int, nackedMessages: Int,
        resumeMessages: Int, resumeRounds: Int, closingSubscribers: Int, afterCloseMessages: Int,
        errorMessages: Int, nackRounds: Int, orderingKeys: Int, messagesPerKey: Int,
        flushMessages: Int, isolationMessages: Int, cancellationMessages: Int,
        groupMessages: Int, groupMembers: Int, reconnectMessages: Int, restarts: Int,
        reconnectPublishers: Int, foreignMessages: Int
    ) {
        self.roundTripMessages = roundTripMessages
        self.concurrentMessages = concurrentMessages
        self.concurrentPublishers = concurrentPublishers
        self.concurrentSubscribers = concurrentSubscribers
        self.topics = topics
        self.messagesPerTopic = messagesPerTopic
        self.nackMessages = nackMessages
        self.nackedMessages = nackedMessages
        self.resumeMessages = resumeMessages
        self.resumeRounds = resumeRounds
        self.closingSubscribers = closingSubscribers
        self.afterCloseMessages = afterCloseMessages
        self.errorMessages = errorMessages
        self.nackRounds = nackRounds
        self.orderingKeys = orderingKeys
        self.messagesPerKey = messagesPerKey
        self.flushMessages = flushMessages
        self.isolationMessages = isolationMessages
        self.cancellationMessages = cancellationMessages
        self.groupMessages = groupMessages
        self.groupMembers = groupMembers
        self.reconnectMessages = reconnectMessages
        self.restarts = restarts
        self.reconnectPublishers = reconnectPublishers
        self.foreignMessages = foreignMessages
    }

    /// Small counts for every `swift test`.
    public static let short = ConformanceCounts(
        roundTripMessages: 20, concurrentMessages: 400, concurrentPublishers: 8, concurrentSubscribers: 3,
        topics: 10, messagesPerTopic: 10, nackMessages: 20, nackedMessages: 5,
        resumeMessages: 60, resumeRounds: 3, closingSubscribers: 6, afterCloseMessages: 20,
        errorMessages: 10, nackRounds: 2, orderingKeys: 4, messagesPerKey: 15,
        flushMessages: 100, isolationMessages: 10, cancellationMessages: 40,
        groupMessages: 40, groupMembers: 2, reconnectMessages: 300, restarts: 2,
        reconnectPublishers: 4, foreignMessages: 3
    )

    /// The counts of the conformance reference.
    public static let full = ConformanceCounts(
        roundTripMessages: 100, concurrentMessages: 4000, concurrentPublishers: 32, concurrentSubscribers: 4,
        topics: 20, messagesPerTopic: 100, nackMessages: 100, nackedMessages: 10,
        resumeMessages: 600, resumeRounds: 5, closingSubscribers: 20, afterCloseMessages: 200,
        errorMessages: 100, nackRounds: 3, orderingKeys: 10, messagesPerKey: 100,
        flushMessages: 1000, isolationMessages: 100, cancellationMessages: 200,
        groupMessages: 500, groupMembers: 3, reconnectMessages: 3000, restarts: 2,
        reconnectPublishers: 4, foreignMessages: 10
    )
}
