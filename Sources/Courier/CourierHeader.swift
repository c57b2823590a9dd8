import Foundation

/// The header names Courier writes and reads. Every name is listed here and in docs/headers.md; the
/// `courier-` prefix is reserved.
public enum CourierHeader {
    /// The reserved prefix.
    public static let prefix = "courier-"

    // Envelope fields, for transports that carry them as headers.
    public static let id = "courier-id"
    public static let idempotencyKey = "courier-idempotency-key"
    public static let correlationID = "courier-correlation-id"
    public static let contentType = "courier-content-type"
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public static let timestamp = "courier-timestamp"
    public static let orderingKey = "courier-ordering-key"
    public static let priority = "courier-priority"

    // Consumer bookkeeping that must survive a crash, so it travels with the message.
    /// How many delayed redeliveries the consumer pipeline has scheduled for this message so far.
    public static let attempt = "courier-attempt"
    /// Handler failures over all earlier deliveries of this message (immediate retries included).
    public static let failures = "courier-failures"
    /// When a handler first failed on this message, ISO 8601.
    public static let firstFailedAt = "courier-first-failed-at"

    /// Set when `courier dlq replay` (or ``DeadLetterQueue/replay(selecting:now:progress:)``) republished a
    /// dead letter: when, ISO 8601.
    public static let replayedAt = "courier-replayed-at"

    // Fault headers, written when a message is dead-lettered.
    public static let faultReason = "courier-fault-reason"
    public static let faultErrorType = "courier-fault-error-type"
    public static let faultMessage = "courier-fault-message"
    public static let faultTopic = "courier-fault-topic"
    public static let faultPartition = "courier-fault-partition"
    public static let faultOffset = "courier-fault-offset"
    public static let faultAttempts = "courier-fault-attempts"
    public static let faultFailedAt = "courier-fault-failed-at"
    public static let faultFirstFailedAt = "courier-fault-first-failed-at"
    public static let faultConsumerGroup = "courier-fault-consumer-group"
    public static let faultHost = "courier-fault-host"
    public static let faultTransport = "courier-fault-transport"

    /// Whether `name` is in Courier's reserved namespace.
    public static func isReserved(_ name: String) -> Bool { name.hasPrefix(prefix) }
}

extension Envelope {
    /// The envelope's fields as headers, for transports with no native place for them (Kafka, say):
    /// the application's headers plus the `courier-*` fields that are set.
    public var wireHeaders: [String: String] {
        var result = headers
        result[CourierHeader.id] = id
        if idempotencyKey != id { result[CourierHeader.idempotencyKey] = idempotencyKey }
        if let correlationID { result[CourierHeader.correlationID] = correlationID }
        if let contentType { result[CourierHeader.contentType] = contentType }
        result[CourierHeader.timestamp] = String(timestampMilliseconds)
        if let orderingKey { result[CourierHeader.orderingKey] = orderingKey }
        if let priority { result[CourierHeader.priority] = String(priority) }
        return result
    }

    /// Rebuilds an envelope from headers written by ``wireHeaders`` or by any other client.
    ///
    /// A message published without Courier's headers is still consumable: its id is `fallbackID` (the
    /// transport passes the broker's own message id, or one derived from where the message sits, such as
    /// `kafka:orders:3:1207`), its idempotency key is that id, and its headers are kept as they came.
    /// Malformed `courier-*` values are ignored in favour of the fallbacks rather than failing the message.
    public init(
        topic: String,
        wireHeaders: [String: String],
        payload: [UInt8],
        fallbackID: String,
        fallbackTimestamp: Date = Date()
    ) {
        var headers = wireHeaders
        let id = headers.removeValue(forKey: CourierHeader.id).flatMap { $0.isEmpty ? nil : $0 } ?? fallbackID
        let key = headers.removeValue(forKey: CourierHeader.idempotencyKey).flatMap { $0.isEmpty ? nil : $0 }
        let correlationID = headers.removeValue(forKey: CourierHeader.correlationID)
        let contentType = headers.removeValue(forKey: CourierHeader.contentType)
        let timestamp = headers.removeValue(forKey: CourierHeader.timestamp)
            .flatMap(Int64.init)
            .map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? fallbackTimestamp
        let orderingKey = headers.removeValue(forKey: CourierHeader.orderingKey)
        let priority = headers.removeValue(forKey: CourierHeader.priority)
            .flatMap(UInt8.init)
            .flatMap { $0 <= Envelope.maxPriority ? $0 : nil }
        self.init(
            topic: topic,
            payload: payload,
            id: id,
            idempotencyKey: key,
            orderingKey: orderingKey,
            priority: priority,
            headers: headers,
            contentType: contentType,
            timestamp: timestamp,
            correlationID: correlationID
        )
    }
}
