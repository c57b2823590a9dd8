import Testing

/// Every test against the real broker, one at a time: the recovery tests restart and freeze the broker,
/// which would break tests running next to them.
@Suite("CourierAMQP against a real RabbitMQ", .serialized)
struct AMQPIntegrationTests {}
