/// The scenarios of the transport conformance suite, numbered as in the conformance reference.
///
/// Each one exercises one promise of the transport SPI. A scenario that needs a capability (or a test
/// hook) the transport does not have is reported as skipped with the reason, never as passed.
public enum ConformanceScenario: Int, CaseIterable, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Messages with payloads and headers round-trip: every id, payload and header.
    case publishSubscribe = 1
    /// Many concurrent publishers, several subscribers: nothing lost.
    case concurrentPublish
    /// Many topics at once: each gets exactly its own full set.
    case manyTopics
    /// Nacked (requeued) messages come back and are eventually read.
    case redeliveryOnNack
    /// With prefetch 1 and one ordering key, an unacked message holds back the next one.
    case noAckNoNext
    /// A new subscriber instance in the same group picks up where a closed one stopped.
    case continueAfterSubscriberClose
    /// Subscribers created and closed concurrently take nothing they should not.
    case concurrentClose
    /// Repeated nacks never stop a subscription.
    case continueAfterErrors
    /// Per ordering key, messages arrive in publish order.
    case orderPerKey
    /// Closing a publisher loses nothing it confirmed; publishing afterwards fails.
    case publisherCloseFlushes
    /// Messages stay on their own topic, even between topics whose names share a prefix.
    case topicIsolation
    /// Cancelling the iterating task ends the sequence promptly; re-subscribing gets everything unacked.
    case cancellation
    /// Every group gets every message; members of one group share them.
    case consumerGroups
    /// Every confirmed message arrives although the broker is restarted during the run.
    case reconnect
    /// Messages published by another client, without Courier's headers, are consumable.
    case foreignMessages
    /// Oversized and malformed input gets a clear error, and the transport keeps working.
    case badInput

    /// The scenario's number in the conformance reference (1 to 16).
    public var number: Int { rawValue }

    /// A short human title, used in reports.
    public var title: String {
        switch self {
        case .publishSubscribe: "publish/subscribe round trip"
        case .concurrentPublish: "concurrent publish"
        case .manyTopics: "many topics at once"
        case .redeliveryOnNack: "redelivery on nack"
        case .noAckNoNext: "no ack, no next"
        case .continueAfterSubscriberClose: "continue after subscriber close"
        case .concurrentClose: "concurrent close"
        case .continueAfterErrors: "continue after errors"
        case .orderPerKey: "order per key"
        case .publisherCloseFlushes: "publisher close flushes"
        case .topicIsolation: "topic isolation"
        case .cancellation: "cancellation"
        case .consumerGroups: "consumer groups"
        case .reconnect: "reconnect"
        case .foreignMessages: "foreign messages"
        case .badInput: "oversized and malformed input"
        }
    }

    /// A lowercase, hyphenated name used in topic and group names.
    public var slug: String { title.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.reduce(into: "") { text, character in
        if character == "-", text.hasSuffix("-") { return }
        text.append(character)
    } }

    /// `"01"` to `"16"`, for ids and topic names.
    var paddedNumber: String { number < 10 ? "0\(number)" : "\(number)" }

    /// `"1. publish/subscribe round trip"`.
    public var description: String { "\(number). \(title)" }

    /// Orders scenarios by number.
    public static func < (lhs: ConformanceScenario, rhs: ConformanceScenario) -> Bool { lhs.rawValue < rhs.rawValue }
}
