import Courier

/// Makes `amqp://` and `amqps://` transports over librabbitmq.
///
/// URL: `amqp[s]://user:password@host[:port][,host2[:port]...][/vhost][?option=value&...]`; several hosts
/// are a cluster tried in turn when connecting and reconnecting. Options are listed on
/// ``AMQPTransportOptions``; an unknown one is an error.
public struct AMQPTransportFactory: TransportFactory {
    public init() {}

    /// `amqp` and `amqps`.
    public var schemes: [String] { ["amqp", "amqps"] }

    /// One line for `courier transports`.
    public var summary: String {
        "RabbitMQ over librabbitmq: publisher confirms, groups as queues, retry queues, heartbeats, automatic recovery (amqp://user:pass@host:5672/vhost, amqps:// for TLS)"
    }

    /// Validates the URL and options without connecting.
    public func capabilities(for spec: TransportSpec) throws -> TransportCapabilities {
        let options = try validated(spec)
        return AMQPTransport.capabilities(options: options)
    }

    /// Makes an unstarted ``AMQPTransport``.
    public func makeTransport(_ spec: TransportSpec, context: TransportContext) throws -> any Transport {
        try AMQPTransport(spec: spec, options: validated(spec), context: context)
    }

    private func validated(_ spec: TransportSpec) throws(CourierError) -> AMQPTransportOptions {
        guard schemes.contains(spec.url.scheme) else {
            throw CourierError(.unknownScheme, "\(spec.url.redacted): AMQPTransportFactory serves amqp:// and amqps:// only")
        }
        guard !spec.url.endpoints.isEmpty else {
            throw CourierError(.invalidConfiguration, "\(spec.url.redacted): no broker host; write amqp://user:password@host:5672/")
        }
        return try AMQPTransportOptions(spec: spec)
    }
}
