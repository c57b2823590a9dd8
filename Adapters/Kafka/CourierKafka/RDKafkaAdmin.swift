import CRDKafka
import Courier

/// What a CreateTopics request for one topic came to.
enum RDKafkaTopicCreation: Equatable {
    /// Created now.
    case created
    /// Another client created it first.
    case alreadyExists
    /// The cluster refused or could not do it (no CreateTopics support, no controller, not authorised,
    /// a policy, bad partition count, ...): librdkafka's error name and message.
    case refused(code: rd_kafka_resp_err_t, message: String)

    /// The outcome for the error code the request (or the topic's result in it) carried.
    static func from(_ code: rd_kafka_resp_err_t, message: String) -> RDKafkaTopicCreation {
        switch code {
        case RD_KAFKA_RESP_ERR_NO_ERROR: .created
        case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: .alreadyExists
        default: .refused(code: code, message: message.isEmpty ? RDKafkaError.describe(code) : message)
        }
    }
}

/// The Admin API calls Courier makes. Blocking: call through ``RDKafkaBlocking``.
enum RDKafkaAdmin {
    /// Asks the cluster's controller to create `topic` with `partitions` and `replicationFactor`
    /// (`nil`: the broker's defaults, which needs Kafka 2.4 or later), waiting up to `timeoutMilliseconds`.
    static func createTopic(_ handle: RDKafkaHandle, topic: String, partitions: Int?, replicationFactor: Int?, timeoutMilliseconds: Int32) -> RDKafkaTopicCreation {
        var message = [CChar](repeating: 0, count: 512)
        guard let newTopic = rd_kafka_NewTopic_new(topic, Int32(partitions ?? -1), Int32(replicationFactor ?? -1), &message, message.count) else {
            return .refused(code: RD_KAFKA_RESP_ERR__INVALID_ARG, message: RDKafkaText.string(message))
        }
        defer { rd_kafka_NewTopic_destroy(newTopic) }
        guard let queue = rd_kafka_queue_new(handle.pointer) else {
            return .refused(code: RD_KAFKA_RESP_ERR__FAIL, message: "librdkafka gave no queue for the CreateTopics result")
        }
        defer { rd_kafka_queue_destroy(queue) }
        guard let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS) else {
            return .refused(code: RD_KAFKA_RESP_ERR__FAIL, message: "librdkafka gave no admin options")
        }
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &message, message.count)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &message, message.count)
        var topics: [OpaquePointer?] = [newTopic]
        rd_kafka_CreateTopics(handle.pointer, &topics, 1, options, queue)
        // librdkafka answers by its own timeout; the extra second only guards against waiting forever.
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds + 1000) else {
            return .refused(code: RD_KAFKA_RESP_ERR__TIMED_OUT, message: "no answer to CreateTopics within \(timeoutMilliseconds) ms")
        }
        defer { rd_kafka_event_destroy(event) }
        let requestError = rd_kafka_event_error(event)
        guard requestError == RD_KAFKA_RESP_ERR_NO_ERROR else {
            return .from(requestError, message: rd_kafka_event_error_string(event).map { String(cString: $0) } ?? "")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            return .refused(code: RD_KAFKA_RESP_ERR__FAIL, message: "librdkafka answered CreateTopics with an unexpected event")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count), count > 0, let first = results[0] else {
            return .refused(code: RD_KAFKA_RESP_ERR__FAIL, message: "the CreateTopics answer named no topic")
        }
        return .from(rd_kafka_topic_result_error(first), message: rd_kafka_topic_result_error_string(first).map { String(cString: $0) } ?? "")
    }
}
