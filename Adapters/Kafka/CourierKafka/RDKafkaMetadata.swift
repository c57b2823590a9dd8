import CRDKafka
import Courier

/// What the cluster said about one topic.
enum RDKafkaTopicState: Equatable {
    case exists(partitions: Int)
    case missing
    /// The cluster knows the topic but has no leader yet (it is being created, or a broker is down).
    case pending(rd_kafka_resp_err_t)
}

/// Topic metadata requests. Blocking: call through ``RDKafkaBlocking``.
enum RDKafkaMetadata {
    /// Asks the cluster about `topic`. On a producer with `allow.auto.create.topics=true` the request
    /// lets the cluster create a missing topic (brokers with auto-create on, and librdkafka's mock cluster).
    static func topicState(_ handle: RDKafkaHandle, topic: String, timeoutMilliseconds: Int32) -> Result<RDKafkaTopicState, CourierError> {
        guard let topicHandle = rd_kafka_topic_new(handle.pointer, topic, nil) else {
            let code = rd_kafka_last_error()
            return .failure(CourierError(.invalidMessage, "topic name \"\(topic)\" is not valid for Kafka: \(RDKafkaError.describe(code))"))
        }
        defer { rd_kafka_topic_destroy(topicHandle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(handle.pointer, 0, topicHandle, &metadata, timeoutMilliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            return .failure(CourierError.unavailable("no Kafka broker answered a metadata request for topic \(topic): \(RDKafkaError.describe(error))"))
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt > 0, let entry = metadata.pointee.topics?.pointee else { return .success(.missing) }
        switch entry.err {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
            return .success(entry.partition_cnt > 0 ? .exists(partitions: Int(entry.partition_cnt)) : .pending(entry.err))
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
            return .success(.missing)
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
            return .failure(CourierError(.rejected, "the Kafka cluster denies access to topic \(topic); grant this client's principal access"))
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
            return .failure(CourierError(.invalidMessage, "topic name \"\(topic)\" is not valid for Kafka (letters, digits, . _ - only, at most 249 characters)"))
        default:
            return .success(.pending(entry.err))
        }
    }
}
