import Courier

/// The librdkafka properties and Courier options of one `kafka://` transport.
///
/// Every URL query parameter and option whose name is not one of Courier's own (``courierOptionNames``,
/// all hyphenated) is a librdkafka property and passed through unchanged, so anything librdkafka can do
/// stays reachable. Courier's defaults (``producerDefaults``, ``consumerDefaults``) only fill in what
/// is not given.
struct KafkaProperties: Sendable, Hashable {
    /// `host:port,...` from the URL.
    var bootstrapServers: String
    /// librdkafka properties given by the user (URL query and options), not Courier's own options.
    var passthrough: [String: String]
    /// Make missing topics (and the retry topics of consumer groups) when the cluster allows it.
    var createTopics: Bool
    /// Partitions of topics Courier creates; `nil`: the cluster's default.
    var topicPartitions: Int?
    /// Replication factor of topics Courier creates; `nil`: the cluster's default.
    var topicReplicationFactor: Int?
    /// Messages a subscription buffers beyond what its handler holds before it pauses fetching.
    var consumerBuffer: Int
    /// How long shutdown waits for outstanding delivery reports.
    var flushTimeout: Duration

    /// Courier's own options for `kafka://` URLs.
    static let courierOptionNames: Set<String> = [
        "create-topics", "topic-partitions", "topic-replication-factor", "consumer-buffer", "flush-timeout-ms",
    ]

    /// Short timeouts, so a dead broker is noticed in seconds and the breaker and failover can act,
    /// instead of librdkafka's five-minute message timeout.
    static let commonDefaults: [String: String] = [
        "client.id": "courier",
        "socket.timeout.ms": "5000",
        "socket.connection.setup.timeout.ms": "5000",
        "reconnect.backoff.ms": "100",
        "reconnect.backoff.max.ms": "1000",
        "retry.backoff.ms": "100",
        "topic.metadata.refresh.interval.ms": "10000",
    ]

    /// Idempotent producer (acks=all, no duplicates or reordering per partition from retries).
    static let producerDefaults: [String: String] = [
        "enable.idempotence": "true",
        "acks": "all",
        "message.timeout.ms": "10000",
        "request.timeout.ms": "5000",
        "linger.ms": "5",
        "topic.metadata.propagation.max.ms": "5000",
    ]

    /// At-least-once consumer: offsets are stored by Courier after a delivery is settled, and the stored
    /// offsets are committed every second, on rebalance and on close. A fetch that finds no data waits at
    /// most 100 ms (librdkafka: 500): a group subscription also reads its retry topic, which is usually
    /// empty, and a broker that answers such a fetch only after the full wait (librdkafka's mock cluster
    /// does) would otherwise stall reading for up to half a second at a time. librdkafka's prefetch queue
    /// keeps its defaults (100,000 messages or 64 MB): a 10,000-message queue took less CPU per message on
    /// the mock cluster, but every refill waits for a fetch round trip and over 12 alternating rounds it
    /// read slower (0.31x raw C against 0.43x; Benchmarks/Kafka/README.md); a farther broker would be worse.
    static let consumerDefaults: [String: String] = [
        "fetch.wait.max.ms": "100",
        "enable.auto.commit": "true",
        "auto.commit.interval.ms": "1000",
        "auto.offset.reset": "earliest",
        "session.timeout.ms": "10000",
        "heartbeat.interval.ms": "1000",
        "allow.auto.create.topics": "false",
    ]

    init(spec: TransportSpec) throws(CourierError) {
        let url = spec.url
        guard !url.endpoints.isEmpty, url.path.isEmpty, url.user == nil, url.password == nil else {
            throw CourierError(
                .invalidConfiguration,
                "\(url.redacted): a Kafka URL lists bootstrap brokers and librdkafka properties; write kafka://host:port[,host:port...][?property=value&...] (credentials go in sasl.username and sasl.password)"
            )
        }
        bootstrapServers = url.endpoints.map { "\($0.host):\($0.port ?? 9092)" }.joined(separator: ",")
        var passthrough: [String: String] = [:]
        for key in spec.optionKeys where !Self.courierOptionNames.contains(key) {
            if key.contains("-") {
                throw CourierError(
                    .invalidConfiguration,
                    "\(url.redacted): unknown option \"\(key)\"; Courier's kafka:// options are \(Self.courierOptionNames.sorted().joined(separator: ", ")), and librdkafka property names use dots"
                )
            }
            passthrough[key] = spec.option(key)
        }
        self.passthrough = passthrough
        switch spec.option("create-topics") ?? "true" {
        case "true": createTopics = true
        case "false": createTopics = false
        case let other:
            throw CourierError(.invalidConfiguration, "\(url.redacted): option create-topics=\"\(other)\" must be true or false")
        }
        topicPartitions = spec.option("topic-partitions") == nil ? nil : try spec.intOption("topic-partitions", default: 1, in: 1...100_000)
        topicReplicationFactor = spec.option("topic-replication-factor") == nil
            ? nil : try spec.intOption("topic-replication-factor", default: 1, in: 1...1000)
        consumerBuffer = try spec.intOption("consumer-buffer", default: 1000, in: 1...1_000_000)
        flushTimeout = .milliseconds(try spec.intOption("flush-timeout-ms", default: 10_000, in: 0...3_600_000))
        // Let librdkafka judge every passthrough property now, so a typo fails at load time with its message.
        _ = try RDKafkaConfig(producer)
    }

    /// The producer's properties: defaults, then the user's, then what Courier relies on.
    var producer: [String: String] {
        var result = Self.commonDefaults.merging(Self.producerDefaults) { _, new in new }
        // With a partition count (or replication) set, topics are made by CreateTopics with it, not by a
        // broker's auto-creation with its defaults.
        let autoCreate = createTopics && topicPartitions == nil && topicReplicationFactor == nil
        result["allow.auto.create.topics"] = autoCreate ? "true" : "false"
        result.merge(passthrough) { _, user in user }
        result["bootstrap.servers"] = bootstrapServers
        return result
    }

    /// A consumer's properties for `group`.
    func consumer(group: String) -> [String: String] {
        var result = Self.commonDefaults.merging(Self.consumerDefaults) { _, new in new }
        result.merge(passthrough) { _, user in user }
        result["bootstrap.servers"] = bootstrapServers
        result["group.id"] = group
        // At-least-once rests on this: an offset is stored only once its message is settled.
        result["enable.auto.offset.store"] = "false"
        return result
    }

    /// How long a CreateTopics request may take (the producer's `request.timeout.ms`).
    var adminTimeoutMilliseconds: Int32 {
        Int32(clamping: producer["request.timeout.ms"].flatMap(Int.init) ?? 5000)
    }

    /// The largest message librdkafka accepts (`message.max.bytes`, default 1,000,000).
    var maxMessageBytes: Int { passthrough["message.max.bytes"].flatMap(Int.init) ?? 1_000_000 }

    /// Whether a property's value is a secret to be hidden in errors.
    static func isSecret(_ key: String) -> Bool {
        let lower = key.lowercased()
        return lower.contains("password") || lower.contains("secret") || lower.hasSuffix(".config") || TransportURL.secretQueryKeys.contains(lower)
    }
}
