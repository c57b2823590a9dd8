import Foundation

/// How a consumer group's requeued and delayed messages travel: through one retry topic per topic and
/// group, `<topic>.retry.<group>`.
///
/// Requeue and `redeliver(after:headers:)` publish a copy of the message (same key, payload and
/// headers, plus the merged headers) to the retry topic, with its due time and original topic in the
/// headers below, and settle the original only once that copy is confirmed. Every member of the group
/// also consumes the retry topic; a copy that is not yet due is held and its partition paused (never
/// blocking the poll loop, so `max.poll.interval.ms` is never exceeded) until it is due. Copies in one
/// retry partition come out in order, so a copy can wait longer than its own delay behind an earlier
/// copy with a longer one. After each assignment the retry partitions start a moment after the topic's
/// own (see `KafkaSubscription.retryTopicStartDelay`). Private subscriptions (no group) redeliver in
/// process instead.
public enum KafkaRetryTopic {
    /// When the copy is due, in milliseconds since 1970.
    public static let dueHeader = "courier-kafka-retry-due"
    /// The topic the message was first consumed from; deliveries report it as their topic.
    public static let originalTopicHeader = "courier-kafka-original-topic"
    /// How often the group has had the message delivered, so `Delivery.deliveryCount` survives the hop.
    public static let deliveryCountHeader = "courier-kafka-delivery-count"

    /// The retry topic of `group` for `topic`. Characters Kafka does not allow in topic names become `_`.
    public static func name(topic: String, group: String) -> String {
        let safeGroup = String(group.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "_" })
        return "\(topic).retry.\(safeGroup)"
    }
}
