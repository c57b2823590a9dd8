import CRDKafka
import Courier

/// A Kafka cluster in this process, served by librdkafka's mock cluster on 127.0.0.1: real Kafka
/// protocol, data in memory, no broker to install. Any client can connect to ``bootstrapServers``
/// (Courier's `kafka://` transport, kcat, confluent-kafka). Faults are injected through its methods.
///
/// Limits (librdkafka 2.0.2): no CreateTopics request (topics come from ``createTopic(_:partitions:replicationFactor:)``
/// or auto-creation with the mock's default partition count), no SSL or SASL, about 5 MiB kept per partition,
/// and a broker set down keeps leading its partitions (no re-election).
public final class KafkaMockCluster: Sendable {
    /// `host:port,...` of the brokers, for `bootstrap.servers` or a `kafka://` URL.
    public let bootstrapServers: String
    /// Brokers are numbered 1 through this.
    public let brokerCount: Int
    private let cluster: RDKafkaMockCluster

    /// Starts a cluster of `brokers` brokers on loopback ports librdkafka picks.
    public init(brokers: Int = 3, logger: any CourierLogger = SilentLogger()) throws {
        guard (1...64).contains(brokers) else {
            throw CourierError(.invalidConfiguration, "a mock cluster has 1 to 64 brokers, not \(brokers)")
        }
        cluster = try RDKafkaMockCluster(brokers: brokers, logger: logger)
        bootstrapServers = cluster.bootstraps
        brokerCount = brokers
    }

    /// The `kafka://` URL of this cluster, with `properties` as librdkafka properties.
    public func url(_ properties: [String: String] = [:]) -> String {
        let query = properties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        return "kafka://\(bootstrapServers)" + (query.isEmpty ? "" : "?\(query)")
    }

    /// Creates `name` with `partitions` partitions (replicated on up to three brokers by default).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int? = nil) throws {
        guard partitions >= 1 else {
            throw CourierError(.invalidConfiguration, "topic \(name) needs at least one partition, not \(partitions)")
        }
        let replicas = replicationFactor ?? min(3, brokerCount)
        try check(cluster.createTopic(name, partitions: Int32(partitions), replicationFactor: Int32(replicas)), "create topic \(name)")
    }

    /// Makes metadata requests for `topic` answer with `error` (for example `UNKNOWN_TOPIC_OR_PART`, to
    /// act like a cluster that does not have the topic and will not create it). `nil` clears it.
    /// The mock cluster itself creates every topic a client asks about, whatever the client's
    /// `allow.auto.create.topics` says; this is how to test the opposite.
    public func setTopicError(_ topic: String, _ error: KafkaErrorCode?) {
        cluster.setTopicError(topic, error?.code ?? RD_KAFKA_RESP_ERR_NO_ERROR)
    }

    /// Disconnects broker `id` and refuses new connections until ``setBrokerUp(_:)``. Its partitions
    /// keep it as leader, so producing to them stalls until it is back. The broker keeps its port meanwhile.
    ///
    /// librdkafka 2.0.2 closes the broker's listener and binds its port again at once, and aborts the
    /// process when that bind fails, which it does while a child process being started still shares the
    /// listener. So this runs inside ``ChildProcessLaunch/excludingLaunches(_:)``: a process that starts
    /// child processes while it sets brokers down starts them through ``ChildProcessLaunch/run(_:)``.
    public func setBrokerDown(_ id: Int) throws {
        let number = try broker(id)
        try ChildProcessLaunch.excludingLaunches { () throws(CourierError) in
            try check(cluster.setBroker(number, up: false), "set broker \(id) down")
        }
    }

    /// Lets broker `id` take connections again, on the same port.
    public func setBrokerUp(_ id: Int) throws {
        try check(cluster.setBroker(try broker(id), up: true), "set broker \(id) up")
    }

    /// Delays every answer of broker `id` by `milliseconds`.
    public func setRoundTripTime(_ milliseconds: Int, broker id: Int) throws {
        guard (0...3_600_000).contains(milliseconds) else {
            throw CourierError(.invalidConfiguration, "round-trip time \(milliseconds) ms is out of range 0...3600000")
        }
        try check(cluster.setRoundTripTime(Int32(milliseconds), broker: try broker(id)), "set the round-trip time of broker \(id)")
    }

    /// Makes the next `errors.count` requests of `api` fail, in order, with these Kafka errors.
    /// `TRANSPORT` disconnects instead of answering.
    public func pushRequestErrors(api: KafkaAPI, errors: [KafkaErrorCode]) {
        cluster.pushRequestErrors(api: api.key, errors: errors.map(\.code))
    }

    /// Drops the request errors still queued for `api`.
    public func clearRequestErrors(api: KafkaAPI) {
        cluster.clearRequestErrors(api: api.key)
    }

    /// Makes broker `broker` the leader of `topic` partition `partition`.
    public func setPartitionLeader(topic: String, partition: Int, broker id: Int) throws {
        try check(cluster.setLeader(topic: topic, partition: Int32(partition), broker: try broker(id)), "move the leader of \(topic)[\(partition)] to broker \(id)")
    }

    /// Stops the cluster; connected clients see every broker go away.
    public func close() {
        cluster.destroy()
    }

    private func broker(_ id: Int) throws(CourierError) -> Int32 {
        guard (1...brokerCount).contains(id) else {
            throw CourierError(.invalidConfiguration, "broker \(id) does not exist; brokers are numbered 1 to \(brokerCount)")
        }
        return Int32(id)
    }

    private func check(_ error: rd_kafka_resp_err_t, _ action: String) throws(CourierError) {
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw CourierError(.rejected, "the mock cluster could not \(action): \(RDKafkaError.describe(error))")
        }
    }
}
