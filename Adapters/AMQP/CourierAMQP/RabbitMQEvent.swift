/// The deliver method's fields.
struct AMQPDeliveryInfo: Sendable {
    var deliveryTag: UInt64
    var redelivered: Bool
    var exchange: String
    var routingKey: String
}

/// Why the broker returned a mandatory publish.
struct AMQPReturnInfo: Sendable {
    var replyCode: UInt16
    var replyText: String
    var exchange: String
    var routingKey: String
}

/// A frame from the broker that the connection thread acts on, decoded out of librabbitmq's memory.
enum RabbitMQEvent {
    case deliver(channel: UInt16, AMQPDeliveryInfo, AMQPIncomingContent)
    case ack(channel: UInt16, deliveryTag: UInt64, multiple: Bool)
    case nack(channel: UInt16, deliveryTag: UInt64, multiple: Bool)
    case returned(channel: UInt16, AMQPReturnInfo, AMQPIncomingContent)
    case consumerCancelled(channel: UInt16, consumerTag: String)
    case channelClosed(RabbitMQFailure)
    /// Heartbeats, flow control and methods Courier does not act on.
    case other
}
