import Courier
import Foundation

/// Turns a consumed Kafka record back into an envelope, reading its headers where librdkafka holds them.
///
/// Courier's own messages carry their identity in `courier-*` headers. A message from any other client
/// gets the derived id `kafka:<topic>:<partition>:<offset>` (stable, so every redelivery of it has the
/// same id and idempotency key) and keeps its headers as they came. The result is what
/// `Envelope(topic:wireHeaders:payload:fallbackID:fallbackTimestamp:)` makes of the headers (for a
/// repeated name the last value wins), built without an intermediate dictionary: only the values kept
/// become strings.
enum KafkaRecordDecoding {
    /// A decoded record.
    struct Decoded: Sendable {
        var location: KafkaPartition
        var offset: Int64
        var envelope: Envelope
        /// The Kafka key, kept for retry-topic copies (as the ordering key's text when it is the same).
        var key: KafkaMessageKey
        /// From a retry-topic copy's bookkeeping headers.
        var deliveryCount: Int?
        var due: Date?
    }

    static func derivedID(topic: String, partition: Int32, offset: Int64) -> String {
        "kafka:\(topic):\(partition):\(offset)"
    }

    /// Header values Courier reads itself; the rest become the envelope's headers.
    private enum Field: Int, CaseIterable {
        case id, idempotencyKey, correlationID, contentType, timestamp, orderingKey, priority
        case originalTopic, deliveryCount, due

        var name: String {
            switch self {
            case .id: CourierHeader.id
            case .idempotencyKey: CourierHeader.idempotencyKey
            case .correlationID: CourierHeader.correlationID
            case .contentType: CourierHeader.contentType
            case .timestamp: CourierHeader.timestamp
            case .orderingKey: CourierHeader.orderingKey
            case .priority: CourierHeader.priority
            case .originalTopic: KafkaRetryTopic.originalTopicHeader
            case .deliveryCount: KafkaRetryTopic.deliveryCountHeader
            case .due: KafkaRetryTopic.dueHeader
            }
        }

        static let count = allCases.count

        /// The field called `name`, compared byte for byte (every one starts with `courier-`).
        static func named(_ name: UnsafeRawBufferPointer) -> Field? {
            guard name.count > prefix.count, name.starts(with: prefix) else { return nil }
            for (index, candidate) in names.enumerated() where candidate.count == name.count && candidate.elementsEqual(name) {
                return Field(rawValue: index)
            }
            return nil
        }

        private static let prefix = Array(CourierHeader.prefix.utf8)
        private static let names = allCases.map { Array($0.name.utf8) }
    }

    static func decode(_ record: RDKafkaMessageView) -> Decoded {
        // Fixed-size, on the stack: no allocation per message for the fields Courier reads.
        var fields = InlineArray<10, UnsafeRawBufferPointer?>(repeating: nil)
        var present: UInt16 = 0
        var headers: [String: String] = [:]
        record.forEachHeader { name, value in
            if let field = Field.named(name) {
                fields[field.rawValue] = value
                present |= 1 << field.rawValue
            } else {
                headers[String(decoding: name, as: UTF8.self)] = value.map { String(decoding: $0, as: UTF8.self) } ?? ""
            }
        }
        func text(_ field: Field) -> String? {
            guard present & (1 << field.rawValue) != 0 else { return nil }
            return fields[field.rawValue].map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        func integer(_ field: Field) -> Int64? {
            guard present & (1 << field.rawValue) != 0 else { return nil }
            return fields[field.rawValue].flatMap(parseInteger)
        }

        let idText = text(.id).flatMap { $0.isEmpty ? nil : $0 }
        let id = idText ?? derivedID(topic: record.topic, partition: record.partition, offset: record.offset)
        let idempotencyKey = text(.idempotencyKey).flatMap { $0.isEmpty ? nil : $0 }
        let timestamp = integer(.timestamp).map { Date(timeIntervalSince1970: Double($0) / 1000) }
            ?? record.timestamp.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? Date()
        let priority = integer(.priority).flatMap { (0...Int64(Envelope.maxPriority)).contains($0) ? UInt8($0) : nil }
        var orderingKey = text(.orderingKey)
        var key = KafkaMessageKey.none
        if let bytes = record.key {
            if let orderingKey, orderingKey.utf8.elementsEqual(bytes) {
                key = .text(orderingKey)
            } else {
                key = .bytes(Array(bytes))
                // A foreign message keyed by another client keeps its key as the ordering key.
                if orderingKey == nil { orderingKey = String(decoding: bytes, as: UTF8.self) }
            }
        }
        let envelope = Envelope(
            topic: text(.originalTopic) ?? record.topic,
            payload: Array(record.payload),
            id: id,
            idempotencyKey: idempotencyKey,
            orderingKey: orderingKey,
            priority: priority,
            headers: headers,
            contentType: text(.contentType),
            timestamp: timestamp,
            correlationID: text(.correlationID)
        )
        return Decoded(
            location: record.location,
            offset: record.offset,
            envelope: envelope,
            key: key,
            deliveryCount: integer(.deliveryCount).map { Int(truncatingIfNeeded: $0) },
            due: integer(.due).map { Date(timeIntervalSince1970: Double($0) / 1000) }
        )
    }

    /// A decimal integer with an optional sign, as `Int64(String)` reads it; `nil` for anything else.
    static func parseInteger(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        var digits = bytes[...]
        var negative = false
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (shifted, overflowShift) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowAdd) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowShift, !overflowAdd else { return nil }
            value = next
        }
        return value
    }
}
