import Courier

/// Settings of an `amqp://` or `amqps://` transport, read from URL query parameters or spec options.
///
/// Defaults follow Spring Cloud Stream's RabbitMQ binder: topic `T` is a durable topic exchange `T`,
/// group `G` a durable queue `T.G` bound with `#`.
public struct AMQPTransportOptions: Sendable, Hashable {
    /// The queue type for group queues: `classic` or `quorum`. Option `queue-type`, default `classic`.
    public var queueType: String = "classic"
    /// Group queues get `x-max-priority` when above 0, and envelope priorities become AMQP priorities.
    /// Option `max-priority` (0-255), default 0 (no priority queues).
    public var maxPriority: Int = 0
    /// Groups whose queues are declared with the exchange, before any consumer exists, so messages
    /// published early are kept. Option `declare-groups`, comma-separated.
    public var declaredGroups: [String] = []
    /// The exchange type for topics. Option `exchange-type`: topic, direct, fanout or headers.
    public var exchangeType: String = "topic"
    /// Delivery mode 2 (persistent) when true. Option `persistent`, default true.
    public var persistent: Bool = true
    /// Virtual host; option `vhost`, else the URL path, else `/`.
    public var vhost: String = "/"
    /// Heartbeat interval in seconds; 0 turns heartbeats off. Option `heartbeat`, default 10.
    public var heartbeatSeconds: Int = 10
    /// Publishes awaiting a confirm at once. Option `confirm-window`, default 256.
    public var confirmWindow: Int = 256
    /// Seconds to wait for a TCP/TLS connection and the login. Option `connect-timeout`, default 5.
    public var connectTimeoutSeconds: Int = 5
    /// First and largest delay between reconnect attempts, in milliseconds (jittered). Options
    /// `reconnect-min-ms` (default 100) and `reconnect-max-ms` (default 5000).
    public var reconnectMinMilliseconds: Int = 100
    /// See ``reconnectMinMilliseconds``.
    public var reconnectMaxMilliseconds: Int = 5000
    /// Largest payload accepted before any byte is sent. Option `max-message-bytes`, default 128 MiB
    /// (RabbitMQ 3.10's `max_message_size`).
    public var maxMessageBytes: Int = 128 << 20
    /// TLS settings for `amqps://`: options `cacert`, `cert`, `key`, `verify` (true/false).
    public var tls: AMQPTLSSettings?

    /// The option names these transports accept.
    public static let names: Set<String> = [
        "queue-type", "max-priority", "declare-groups", "exchange-type", "persistent", "vhost", "heartbeat",
        "confirm-window", "connect-timeout", "reconnect-min-ms", "reconnect-max-ms", "max-message-bytes",
        "cacert", "cert", "key", "verify",
    ]

    /// The defaults.
    public init() {}

    /// Reads and validates the options of `spec`, naming the bad option and the fix.
    public init(spec: TransportSpec) throws(CourierError) {
        try spec.rejectUnknownOptions(known: Self.names)
        let url = spec.url.redacted
        if let type = spec.option("queue-type") {
            guard ["classic", "quorum"].contains(type) else {
                throw CourierError(.invalidConfiguration, "\(url): option queue-type=\"\(type)\" must be classic or quorum")
            }
            queueType = type
        }
        maxPriority = try spec.intOption("max-priority", default: 0, in: 0...255)
        if let groups = spec.option("declare-groups") {
            declaredGroups = groups.split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
        }
        if let type = spec.option("exchange-type") {
            guard ["topic", "direct", "fanout", "headers"].contains(type) else {
                throw CourierError(.invalidConfiguration, "\(url): option exchange-type=\"\(type)\" must be topic, direct, fanout or headers")
            }
            exchangeType = type
        }
        persistent = try Self.boolOption(spec, "persistent", default: true)
        vhost = spec.option("vhost") ?? (spec.url.path.isEmpty ? "/" : spec.url.path)
        heartbeatSeconds = try spec.intOption("heartbeat", default: 10, in: 0...600)
        confirmWindow = try spec.intOption("confirm-window", default: 256, in: 1...65_535)
        connectTimeoutSeconds = try spec.intOption("connect-timeout", default: 5, in: 1...300)
        reconnectMinMilliseconds = try spec.intOption("reconnect-min-ms", default: 100, in: 1...600_000)
        reconnectMaxMilliseconds = try spec.intOption("reconnect-max-ms", default: 5000, in: reconnectMinMilliseconds...3_600_000)
        maxMessageBytes = try spec.intOption("max-message-bytes", default: 128 << 20, in: 1...(512 << 20))
        let tlsKeys = ["cacert", "cert", "key", "verify"].filter { spec.option($0) != nil }
        if spec.url.scheme == "amqps" {
            let tls = AMQPTLSSettings(
                caCertificatePath: spec.option("cacert"), certificatePath: spec.option("cert"), keyPath: spec.option("key"),
                verifyPeer: try Self.boolOption(spec, "verify", default: true)
            )
            if (tls.certificatePath == nil) != (tls.keyPath == nil) {
                throw CourierError(.invalidConfiguration, "\(url): options cert and key go together; give both the client certificate and its key, or neither")
            }
            self.tls = tls
        } else if let key = tlsKeys.first {
            throw CourierError(.invalidConfiguration, "\(url): option \(key) only applies to amqps:// URLs; use amqps:// for TLS")
        }
    }

    private static func boolOption(_ spec: TransportSpec, _ key: String, default value: Bool) throws(CourierError) -> Bool {
        guard let text = spec.option(key) else { return value }
        switch text.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: throw CourierError(.invalidConfiguration, "\(spec.url.redacted): option \(key)=\"\(text)\" must be true or false")
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
