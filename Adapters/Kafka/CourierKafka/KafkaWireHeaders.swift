import Courier
import Foundation

/// Writes an envelope as a Kafka record carries it. The timestamp travels as the record timestamp and
/// the ordering key as the record key, so neither is a header (librdkafka allocates for every header,
/// on produce and on consume); the other `courier-*` fields that are set are headers, winning over an
/// application header of the same name.
enum KafkaWireHeaders {
    /// How many headers ``write(_:recordTimestamp:to:)`` writes, at most (a sizing hint): the application's and six fields.
    static func count(of envelope: Envelope) -> Int { envelope.headers.count + 6 }

    /// How far (in seconds) an envelope's creation time may lie from the time of sending and still travel
    /// as the record timestamp. Kafka judges a record by its timestamp: time-based retention deletes it,
    /// and a broker may refuse one too far from its clock. A message sent long after it was made (relayed
    /// from the spool after an outage, replayed from a dead-letter queue) therefore gets the time of
    /// sending as its record timestamp, and its creation time travels as `courier-timestamp`.
    static let recordTimestampWindow: Double = 3600

    /// The envelope's timestamp as its record timestamp (ms since 1970), or `nil` when the record should
    /// not carry it: outside ``recordTimestampWindow`` of `now`, or at or before 1970 (librdkafka reads 0
    /// as "now", and Kafka has no earlier times). With `nil` librdkafka stamps the time of sending.
    static func recordTimestamp(of envelope: Envelope, now: Date = Date()) -> Int64? {
        let milliseconds = envelope.timestampMilliseconds
        guard milliseconds >= 1, abs(envelope.timestamp.timeIntervalSince(now)) <= recordTimestampWindow else { return nil }
        return milliseconds
    }

    /// Calls `add` once per header: the Courier fields first, then the application's headers in name
    /// order (so the bytes on the wire do not depend on dictionary order). `recordTimestamp` is what
    /// ``recordTimestamp(of:now:)`` gave for the record: without one, the timestamp is a header.
    static func write(_ envelope: Envelope, recordTimestamp: Int64?, to add: (String, String) -> Void) {
        // Each read of an envelope's field is a copy (a reference count): read once.
        let id = envelope.id
        let idempotencyKey = envelope.idempotencyKey
        add(CourierHeader.id, id)
        let hasKey = idempotencyKey != id
        if hasKey { add(CourierHeader.idempotencyKey, idempotencyKey) }
        if let correlationID = envelope.correlationID { add(CourierHeader.correlationID, correlationID) }
        if let contentType = envelope.contentType { add(CourierHeader.contentType, contentType) }
        if recordTimestamp == nil { add(CourierHeader.timestamp, String(envelope.timestampMilliseconds)) }
        if let priority = envelope.priority { add(CourierHeader.priority, String(priority)) }
        guard !envelope.headers.isEmpty else { return }
        for (name, value) in envelope.headers.sorted(by: { $0.key < $1.key }) {
            // A Courier field that is set replaces an application header of the same name; the
            // timestamp and ordering key always do (the record's own fields carry them).
            if CourierHeader.isReserved(name) {
                switch name {
                case CourierHeader.id, CourierHeader.timestamp, CourierHeader.orderingKey: continue
                case CourierHeader.idempotencyKey where hasKey: continue
                case CourierHeader.correlationID where envelope.correlationID != nil: continue
                case CourierHeader.contentType where envelope.contentType != nil: continue
                case CourierHeader.priority where envelope.priority != nil: continue
                default: break
                }
            }
            add(name, value)
        }
    }
}
