import Courier
import Foundation

/// Envelope ↔ AMQP message: id, correlation id, content type and timestamp go in the standard
/// properties, everything else in the headers table, so any AMQP client can read them and Courier can
/// read messages from any AMQP client.
enum AMQPEnvelopeMapping {
    /// Headers carried in the standard properties instead of the headers table.
    private static let propertyHeaders: Set<String> = [
        CourierHeader.id, CourierHeader.correlationID, CourierHeader.contentType, CourierHeader.priority,
    ]

    static func outgoing(_ envelope: Envelope, exchange: String, persistent: Bool) -> AMQPOutgoingMessage {
        var headers = envelope.wireHeaders
        for name in propertyHeaders { headers.removeValue(forKey: name) }
        let properties = AMQPMessageProperties(
            contentType: envelope.contentType,
            headers: headers,
            deliveryMode: persistent ? 2 : 1,
            priority: envelope.priority,
            correlationID: envelope.correlationID,
            messageID: envelope.id,
            timestamp: UInt64(max(0, envelope.timestamp.timeIntervalSince1970))
        )
        return AMQPOutgoingMessage(
            exchange: exchange, routingKey: envelope.orderingKey ?? envelope.topic, properties: properties, body: envelope.payload
        )
    }

    /// Rebuilds the envelope of a delivered message. A message without a message id (another client's)
    /// gets `amqp-` plus a hash of its exchange, routing key, headers and body, so a redelivery of the same
    /// message keeps the same id.
    ///
    /// The same envelope as `Envelope(topic:wireHeaders:payload:fallbackID:fallbackTimestamp:)` makes from
    /// the headers table with the standard properties laid over it (the message id only where the table
    /// has no `courier-id`; correlation id, content type and priority always). The content arrives with
    /// the table already split into the envelope fields and the other headers, so this copies nothing.
    static func envelope(topic: String, content: AMQPIncomingContent, info: AMQPDeliveryInfo) -> Envelope {
        let properties = content.properties
        let fields = content.envelopeHeaders
        var idHeader = fields.id
        if idHeader == nil, let messageID = properties.messageID, !messageID.isEmpty { idHeader = messageID }
        let id = idHeader.flatMap { $0.isEmpty ? nil : $0 }
        let priority = properties.priority.map { String($0) } ?? fields.priority
        let timestamp = fields.timestamp.flatMap { Int64($0) }.map { Date(timeIntervalSince1970: Double($0) / 1000) }
            ?? properties.timestamp.map { Date(timeIntervalSince1970: Double($0)) } ?? Date()
        return Envelope(
            topic: topic,
            payload: content.body,
            // The derived id hashes the whole message: computed only for messages that carry no id.
            id: id ?? derivedID(info: info, content: content),
            idempotencyKey: fields.idempotencyKey.flatMap { $0.isEmpty ? nil : $0 },
            orderingKey: fields.orderingKey,
            priority: priority.flatMap { UInt8($0) }.flatMap { $0 <= Envelope.maxPriority ? $0 : nil },
            headers: properties.headers,
            contentType: properties.contentType ?? fields.contentType,
            timestamp: timestamp,
            correlationID: properties.correlationID ?? fields.correlationID
        )
    }

    /// FNV-1a over the parts that stay the same across redeliveries.
    static func derivedID(info: AMQPDeliveryInfo, content: AMQPIncomingContent) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            hash ^= 0xFF
            hash = hash &* 0x0000_0100_0000_01B3
        }
        mix(info.exchange.utf8)
        mix(info.routingKey.utf8)
        for (key, value) in content.allHeaders.sorted(by: { $0.key < $1.key }) where !key.hasPrefix("x-") {
            mix(key.utf8)
            mix(value.utf8)
        }
        mix(content.body)
        let hex = String(hash, radix: 16)
        return "amqp-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// 1 on the first delivery; quorum queues count in `x-delivery-count`, classic queues only flag a
    /// redelivery.
    static func deliveryCount(content: AMQPIncomingContent, info: AMQPDeliveryInfo) -> Int {
        if let count = content.properties.headers["x-delivery-count"].flatMap(Int.init) { return count + 1 }
        return info.redelivered ? 2 : 1
    }
}
