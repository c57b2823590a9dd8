import CRabbitMQ

extension AMQPMessageProperties {
    /// The C properties struct, its strings allocated in `arena`.
    func cProperties(in arena: RabbitMQArena) -> amqp_basic_properties_t {
        var properties = amqp_basic_properties_t()
        var flags: UInt32 = 0
        if let contentType {
            flags |= RabbitMQPropertyFlag.contentType
            properties.content_type = arena.bytes(contentType)
        }
        if !headers.isEmpty {
            flags |= RabbitMQPropertyFlag.headers
            let entries = headers.sorted { $0.key < $1.key }.map { (key: $0.key, value: AMQPFieldValue.string($0.value)) }
            properties.headers = RabbitMQTable.make(entries, in: arena)
        }
        if let deliveryMode {
            flags |= RabbitMQPropertyFlag.deliveryMode
            properties.delivery_mode = deliveryMode
        }
        if let priority {
            flags |= RabbitMQPropertyFlag.priority
            properties.priority = priority
        }
        if let correlationID {
            flags |= RabbitMQPropertyFlag.correlationID
            properties.correlation_id = arena.bytes(correlationID)
        }
        if let messageID {
            flags |= RabbitMQPropertyFlag.messageID
            properties.message_id = arena.bytes(messageID)
        }
        if let timestamp {
            flags |= RabbitMQPropertyFlag.timestamp
            properties.timestamp = timestamp
        }
        properties._flags = flags
        return properties
    }

    /// Reads the properties Courier understands from a C properties struct.
    init(_ properties: amqp_basic_properties_t) {
        var envelopeHeaders: AMQPEnvelopeHeaders?
        self.init(properties, pickingOut: &envelopeHeaders)
    }

    /// The same, with the header table's envelope fields kept in `envelopeHeaders` (when it is not nil)
    /// instead of `headers`.
    init(_ properties: amqp_basic_properties_t, pickingOut envelopeHeaders: inout AMQPEnvelopeHeaders?) {
        let flags = properties._flags
        self.init()
        if flags & RabbitMQPropertyFlag.contentType != 0 { contentType = properties.content_type.string }
        if flags & RabbitMQPropertyFlag.headers != 0 { headers = RabbitMQTable.strings(properties.headers, pickingOut: &envelopeHeaders) }
        if flags & RabbitMQPropertyFlag.deliveryMode != 0 { deliveryMode = properties.delivery_mode }
        if flags & RabbitMQPropertyFlag.priority != 0 { priority = properties.priority }
        if flags & RabbitMQPropertyFlag.correlationID != 0 { correlationID = properties.correlation_id.string }
        if flags & RabbitMQPropertyFlag.messageID != 0 { messageID = properties.message_id.string }
        if flags & RabbitMQPropertyFlag.timestamp != 0 { timestamp = properties.timestamp }
    }
}
