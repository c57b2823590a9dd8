import Courier

/// AMQP short strings (exchange and queue names, routing keys) hold at most 255 bytes; longer ones cannot
/// even be encoded, so they are refused before reaching librabbitmq.
enum AMQPNameLimits {
    static let maxBytes = 255

    static func checkPublish(_ envelope: Envelope, transport: String) throws(CourierError) {
        try check(envelope.topic, "topic", code: .invalidMessage, transport: transport)
        if let key = envelope.orderingKey {
            try check(key, "ordering key (the AMQP routing key)", code: .invalidMessage, transport: transport)
        }
    }

    static func checkSubscription(_ subscription: Subscription, topology: AMQPTopology, transport: String) throws(CourierError) {
        try check(subscription.topic, "topic", code: .invalidConfiguration, transport: transport)
        if let group = subscription.group {
            try check(topology.groupQueue(topic: subscription.topic, group: group), "group queue name", code: .invalidConfiguration, transport: transport)
        }
    }

    private static func check(_ name: String, _ what: String, code: CourierError.Code, transport: String) throws(CourierError) {
        let bytes = name.utf8.count
        if bytes > maxBytes {
            throw CourierError(code, "the \(what) \"\(name.prefix(40))…\" has \(bytes) bytes; AMQP names hold at most \(maxBytes)", transport: transport)
        }
    }
}
