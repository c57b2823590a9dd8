/// AMQP 0-9-1 method ids (class << 16 | method) that the connection thread reacts to. The C headers define
/// them as cast macros, which Swift does not import.
enum RabbitMQMethod {
    static let connectionClose: UInt32 = 0x000A_0032
    static let connectionCloseOk: UInt32 = 0x000A_0033
    static let connectionBlocked: UInt32 = 0x000A_003C
    static let connectionUnblocked: UInt32 = 0x000A_003D
    static let channelClose: UInt32 = 0x0014_0028
    static let channelCloseOk: UInt32 = 0x0014_0029
    static let basicCancel: UInt32 = 0x003C_001E
    static let basicReturn: UInt32 = 0x003C_0032
    static let basicDeliver: UInt32 = 0x003C_003C
    static let basicAck: UInt32 = 0x003C_0050
    static let basicNack: UInt32 = 0x003C_0078
}

/// AMQP frame types and property flags, for the same reason.
enum RabbitMQFrameType {
    static let method: UInt8 = 1
    static let heartbeat: UInt8 = 8
}

enum RabbitMQPropertyFlag {
    static let contentType: UInt32 = 1 << 15
    static let headers: UInt32 = 1 << 13
    static let deliveryMode: UInt32 = 1 << 12
    static let priority: UInt32 = 1 << 11
    static let correlationID: UInt32 = 1 << 10
    static let messageID: UInt32 = 1 << 7
    static let timestamp: UInt32 = 1 << 6
}

/// AMQP reply codes Courier explains to users.
enum AMQPReplyCode {
    static let contentTooLarge: UInt16 = 311
    static let noRoute: UInt16 = 312
    static let accessRefused: UInt16 = 403
    static let notFound: UInt16 = 404
    static let preconditionFailed: UInt16 = 406
    static let frameError: UInt16 = 501
    static let notAllowed: UInt16 = 530
}
