import Courier
import Foundation

/// Turns a consumed Kafka record back into an envelope, reading its headers where librdkafka holds them.
///
/// Courier's own messages carry their identity in `courier-*` headers, their ordering key as the Kafka
/// key and their timestamp as the record timestamp (a `courier-timestamp` or `courier-ordering-key`
/// header, from older Courier producers and retry-topic copies, wins when present). A message from any
/// other client gets the derived id `kafka:<topic>:<partition>:<offset>` (stable, so every redelivery of
/// it has the same id and idempotency key) and keeps its headers as they came. The result is what
/// `Envelope(topic:wireHeaders:payload:fallbackID:fallbackTimestamp:)` makes of the headers (for a
/// repeated name the last value wins), built without an intermediate dictionary: only the values kept
/// become strings.
enum KafkaRecordDecoding {
    /// What a record decodes to, handed to the `make` closure of ``decode(_:make:)``, which takes the
    /// envelope over (no intermediate value is copied and destroyed on the way): the envelope; the Kafka
    /// key, kept for retry-topic copies (as the ordering key's text when it is the same); and, from a
    /// retry-topic copy's bookkeeping headers, its delivery count and when it is due.
    typealias Make<Output> = (_ envelope: consuming Envelope, _ key: KafkaMessageKey, _ deliveryCount: Int?, _ due: Date?) -> Output

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
            guard let start = name.baseAddress, name.count > prefixLength else { return nil }
            for index in names.indices where names[index].count == name.count {
                let equal = names[index].withUnsafeBytes { $0.baseAddress.map { memcmp($0, start, name.count) == 0 } ?? false }
                if equal { return Field(rawValue: index) }
            }
            return nil
        }

        private static let prefixLength = CourierHeader.prefix.utf8.count
        private static let names = allCases.map { Array($0.name.utf8) }
    }

    static func decode<Output>(_ record: RDKafkaMessageView, make: Make<Output>) -> Output {
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
            if let orderingKey, Self.equal(orderingKey, bytes) {
                key = .text(orderingKey)
            } else if orderingKey == nil, let text = Self.exactText(bytes) {
                // The key is the ordering key: Courier writes it there, and another client's key counts as one.
                orderingKey = text
                key = .text(text)
            } else {
                key = .bytes(Array(bytes))
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
        let deliveryCount = integer(.deliveryCount).map { Int(truncatingIfNeeded: $0) }
        let due = integer(.due).map { Date(timeIntervalSince1970: Double($0) / 1000) }
        return make(envelope, key, deliveryCount, due)
    }

    /// `bytes` as a string when they are valid UTF-8 (so the string's UTF-8 is exactly `bytes`). Decoding
    /// with repair and comparing is several times faster than `String(validating:as:)`, which is not
    /// specialised here and looks its generic metadata up for every call.
    private static func exactText(_ bytes: UnsafeRawBufferPointer) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        return equal(text, bytes) ? text : nil
    }

    /// Whether `text`'s UTF-8 is `bytes`.
    private static func equal(_ text: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard text.utf8.count == bytes.count else { return false }
        guard let start = bytes.baseAddress else { return true }
        return text.utf8.withContiguousStorageIfAvailable { $0.baseAddress.map { memcmp($0, start, bytes.count) == 0 } ?? bytes.isEmpty }
            ?? text.utf8.elementsEqual(bytes)
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
