import CRabbitMQ
import Courier

/// A value in an AMQP field table, as far as Courier writes them (queue arguments and string headers).
enum AMQPFieldValue: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case bool(Bool)
}

/// The basic-class content properties Courier reads and writes, independent of librabbitmq's C structs.
struct AMQPMessageProperties: Sendable, Hashable {
    var contentType: String?
    /// Application headers; non-string values read from other clients arrive as their text form.
    var headers: [String: String] = [:]
    /// 2 = persistent, 1 = transient.
    var deliveryMode: UInt8?
    var priority: UInt8?
    var correlationID: String?
    var messageID: String?
    /// Seconds since 1970, as AMQP defines it.
    var timestamp: UInt64?
}

/// A message on its way to the broker.
struct AMQPOutgoingMessage: Sendable {
    var exchange: String
    var routingKey: String
    var properties: AMQPMessageProperties
    var body: [UInt8]
}

/// A message's content as read from the broker (a delivery or a returned publish). The headers table is
/// split as it is read: the `courier-*` envelope fields in `envelopeHeaders`, every other header in
/// `properties.headers`, so the envelope takes both as they are, without a dictionary copy or lookups.
struct AMQPIncomingContent: Sendable {
    var properties: AMQPMessageProperties
    var envelopeHeaders = AMQPEnvelopeHeaders()
    var body: [UInt8]

    /// The whole headers table as text: the other headers with the envelope fields put back.
    var allHeaders: [String: String] {
        var headers = properties.headers
        envelopeHeaders.add(to: &headers)
        return headers
    }
}

/// The `courier-*` headers that `Envelope(topic:wireHeaders:payload:fallbackID:fallbackTimestamp:)` turns
/// into envelope fields (and leaves out of the envelope's headers), as a delivered table carries them.
struct AMQPEnvelopeHeaders: Sendable, Hashable {
    var id: String?
    var idempotencyKey: String?
    var correlationID: String?
    var contentType: String?
    var timestamp: String?
    var orderingKey: String?
    var priority: String?

    /// Keeps `value` when `name` is one of the fields; false otherwise.
    mutating func take(name: amqp_bytes_t, value: String) -> Bool {
        // All of them start with "courier-" and are 10 to 23 bytes long.
        guard name.len >= 10, let first = name.bytes?.load(as: UInt8.self), first == UInt8(ascii: "c") else { return false }
        if name.equals(CourierHeader.timestamp) {
            timestamp = value
        } else if name.equals(CourierHeader.id) {
            id = value
        } else if name.equals(CourierHeader.idempotencyKey) {
            idempotencyKey = value
        } else if name.equals(CourierHeader.correlationID) {
            correlationID = value
        } else if name.equals(CourierHeader.contentType) {
            contentType = value
        } else if name.equals(CourierHeader.orderingKey) {
            orderingKey = value
        } else if name.equals(CourierHeader.priority) {
            priority = value
        } else {
            return false
        }
        return true
    }

    /// Adds the fields that are set to `headers`.
    func add(to headers: inout [String: String]) {
        if let id { headers[CourierHeader.id] = id }
        if let idempotencyKey { headers[CourierHeader.idempotencyKey] = idempotencyKey }
        if let correlationID { headers[CourierHeader.correlationID] = correlationID }
        if let contentType { headers[CourierHeader.contentType] = contentType }
        if let timestamp { headers[CourierHeader.timestamp] = timestamp }
        if let orderingKey { headers[CourierHeader.orderingKey] = orderingKey }
        if let priority { headers[CourierHeader.priority] = priority }
    }
}
