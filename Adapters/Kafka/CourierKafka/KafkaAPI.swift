import CRDKafka
import Courier

/// A Kafka protocol API, for injecting request errors into a ``KafkaMockCluster``.
public struct KafkaAPI: Sendable, Hashable, CustomStringConvertible {
    /// The API key from the Kafka protocol.
    public let key: Int16

    /// The API with protocol key `key`.
    public init(key: Int16) { self.key = key }

    /// Kafka API key 0.
    public static let produce = KafkaAPI(key: 0)
    /// Kafka API key 1.
    public static let fetch = KafkaAPI(key: 1)
    /// Kafka API key 2.
    public static let listOffsets = KafkaAPI(key: 2)
    /// Kafka API key 3.
    public static let metadata = KafkaAPI(key: 3)
    /// Kafka API key 8.
    public static let offsetCommit = KafkaAPI(key: 8)
    /// Kafka API key 9.
    public static let offsetFetch = KafkaAPI(key: 9)
    /// Kafka API key 10.
    public static let findCoordinator = KafkaAPI(key: 10)
    /// Kafka API key 11.
    public static let joinGroup = KafkaAPI(key: 11)
    /// Kafka API key 12.
    public static let heartbeat = KafkaAPI(key: 12)
    /// Kafka API key 13.
    public static let leaveGroup = KafkaAPI(key: 13)
    /// Kafka API key 14.
    public static let syncGroup = KafkaAPI(key: 14)
    /// Kafka API key 18.
    public static let apiVersions = KafkaAPI(key: 18)
    /// Kafka API key 22.
    public static let initProducerId = KafkaAPI(key: 22)

    /// Names as the Kafka protocol spells them.
    public static let byName: [String: KafkaAPI] = [
        "Produce": .produce, "Fetch": .fetch, "ListOffsets": .listOffsets, "Metadata": .metadata,
        "OffsetCommit": .offsetCommit, "OffsetFetch": .offsetFetch, "FindCoordinator": .findCoordinator,
        "JoinGroup": .joinGroup, "Heartbeat": .heartbeat, "LeaveGroup": .leaveGroup, "SyncGroup": .syncGroup,
        "ApiVersions": .apiVersions, "InitProducerId": .initProducerId,
    ]

    /// The API called `name` (any case), or with that numeric key.
    public init(named name: String) throws {
        if let match = Self.byName.first(where: { $0.key.lowercased() == name.lowercased() }) {
            self = match.value
        } else if let key = Int16(name), key >= 0 {
            self.init(key: key)
        } else {
            throw CourierError(.invalidConfiguration, "unknown Kafka API \"\(name)\"; use a key number or one of \(Self.byName.keys.sorted().joined(separator: ", "))")
        }
    }

    /// The protocol name, such as `Produce`.
    public var description: String { Self.byName.first { $0.value == self }?.key ?? "api-\(key)" }
}

/// A Kafka error code (broker errors and librdkafka's local ones), by librdkafka's name.
public struct KafkaErrorCode: Sendable, Hashable, CustomStringConvertible {
    let code: rd_kafka_resp_err_t

    /// The error named `name`, such as `NOT_LEADER_FOR_PARTITION`, `REQUEST_TIMED_OUT` or `TRANSPORT`
    /// (any case, with or without librdkafka's leading underscore for local errors), or a number.
    public init(named name: String) throws {
        var key = name.uppercased()
        while key.hasPrefix("_") { key.removeFirst() }
        if let code = RDKafkaError.codesByName()[key] {
            self.code = code
        } else if let number = Int32(name) {
            self.code = rd_kafka_resp_err_t(rawValue: number)
        } else {
            throw CourierError(.invalidConfiguration, "unknown Kafka error \"\(name)\"; use a name such as NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT or TRANSPORT")
        }
    }

    init(code: rd_kafka_resp_err_t) { self.code = code }

    /// The connection is dropped instead of answering.
    public static let transport = KafkaErrorCode(code: RD_KAFKA_RESP_ERR__TRANSPORT)
    /// Retriable: the broker is not the partition's leader.
    public static let notLeaderForPartition = KafkaErrorCode(code: RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)
    /// Retriable: the broker timed out.
    public static let requestTimedOut = KafkaErrorCode(code: RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)
    /// Retriable: not enough in-sync replicas to take the write.
    public static let notEnoughReplicas = KafkaErrorCode(code: RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS)
    /// The topic or partition does not exist.
    public static let unknownTopicOrPartition = KafkaErrorCode(code: RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    /// Permanent: the message is larger than the broker accepts.
    public static let messageTooLarge = KafkaErrorCode(code: RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)

    /// librdkafka's name for the error, such as `NOT_LEADER_FOR_PARTITION`.
    public var description: String { RDKafkaError.name(code) }
}
