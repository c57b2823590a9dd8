import Courier

/// Makes `kafka://host:port[,host:port...][?property=value&...]` transports over librdkafka.
///
/// Query parameters and spec options are librdkafka properties (for example `message.timeout.ms`,
/// `security.protocol`, `sasl.username`), except Courier's own hyphenated options: `create-topics`
/// (`true`/`false`, default `true`), `topic-partitions` and `topic-replication-factor` (the shape of
/// topics Courier creates with CreateTopics; default: the cluster's), `consumer-buffer` (messages buffered per subscription before it
/// pauses fetching, default 1000) and `flush-timeout-ms` (how long shutdown waits for delivery
/// reports, default 10000). An invalid property fails with librdkafka's own message.
public struct KafkaTransportFactory: TransportFactory {
    public init() {}

    public var schemes: [String] { ["kafka"] }

    public var summary: String {
        "Kafka over librdkafka: idempotent producer, consumer groups, at-least-once commits, retry topics (kafka://HOST:PORT[,HOST:PORT])"
    }

    public func capabilities(for spec: TransportSpec) throws -> TransportCapabilities {
        KafkaTransport.capabilities(try KafkaProperties(spec: spec))
    }

    public func makeTransport(_ spec: TransportSpec, context: TransportContext) throws -> any Transport {
        KafkaTransport(name: spec.name, properties: try KafkaProperties(spec: spec), context: context)
    }
}
