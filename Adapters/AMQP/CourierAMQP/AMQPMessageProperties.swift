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

/// A message's content as read from the broker (a delivery or a returned publish).
struct AMQPIncomingContent: Sendable {
    var properties: AMQPMessageProperties
    var body: [UInt8]
}
