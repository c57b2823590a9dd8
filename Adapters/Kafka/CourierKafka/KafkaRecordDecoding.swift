import Courier
import Foundation

/// Turns a consumed Kafka record back into an envelope.
///
/// Courier's own messages carry their identity in `courier-*` headers. A message from any other client
/// gets the derived id `kafka:<topic>:<partition>:<offset>` (stable, so every redelivery of it has the
/// same id and idempotency key) and keeps its headers as they came.
enum KafkaRecordDecoding {
    static func derivedID(_ record: RDKafkaRecord) -> String {
        "kafka:\(record.topic):\(record.partition):\(record.offset)"
    }

    /// The envelope, the topic it belongs to (the original topic for retry-topic copies) and the
    /// retry bookkeeping found in its headers.
    static func envelope(from record: RDKafkaRecord) -> (envelope: Envelope, deliveryCount: Int?) {
        var headers = record.headers
        let originalTopic = headers.removeValue(forKey: KafkaRetryTopic.originalTopicHeader)
        let deliveryCount = headers.removeValue(forKey: KafkaRetryTopic.deliveryCountHeader).flatMap(Int.init)
        headers.removeValue(forKey: KafkaRetryTopic.dueHeader)
        let timestamp = record.timestamp.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? Date()
        var envelope = Envelope(
            topic: originalTopic ?? record.topic,
            wireHeaders: headers,
            payload: record.payload,
            // Only a message without Courier's id needs the derived one.
            fallbackID: (headers[CourierHeader.id]?.isEmpty ?? true) ? derivedID(record) : "",
            fallbackTimestamp: timestamp
        )
        // A foreign message keyed by another client keeps its key as the ordering key.
        if envelope.orderingKey == nil, let key = record.key {
            envelope.orderingKey = String(decoding: key, as: UTF8.self)
        }
        return (envelope, deliveryCount)
    }

    /// When a retry-topic copy is due, or `nil` for an ordinary message.
    static func dueTime(_ record: RDKafkaRecord) -> Date? {
        guard let text = record.headers[KafkaRetryTopic.dueHeader],
              let milliseconds = Int64(text) else { return nil }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
