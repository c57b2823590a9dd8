import CRDKafka
import Courier

/// librdkafka's error codes as Courier errors.
enum RDKafkaError {
    /// librdkafka's description of `code`.
    static func describe(_ code: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2str(code))
    }

    /// librdkafka's name for `code`, such as `NOT_LEADER_FOR_PARTITION` or `_TRANSPORT`.
    static func name(_ code: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2name(code))
    }

    /// Every named error code, keyed by name without a leading underscore and in upper case.
    static func codesByName() -> [String: rd_kafka_resp_err_t] {
        var descriptions: UnsafePointer<rd_kafka_err_desc>?
        var count = 0
        rd_kafka_get_err_descs(&descriptions, &count)
        guard let descriptions else { return [:] }
        var result: [String: rd_kafka_resp_err_t] = [:]
        for index in 0..<count {
            let entry = descriptions[index]
            guard let name = entry.name else { continue }
            var text = String(cString: name).uppercased()
            while text.hasPrefix("_") { text.removeFirst() }
            if !text.isEmpty { result[text] = entry.code }
        }
        return result
    }

    /// Errors that will not go away by resending the same message.
    static func isPermanent(_ code: rd_kafka_resp_err_t) -> Bool {
        switch code {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
             RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
             RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
             RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR__INVALID_ARG,
             RD_KAFKA_RESP_ERR_INVALID_RECORD, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
            return true
        default:
            return false
        }
    }

    /// The Courier code for a failed produce whose message did not reach the broker.
    static func courierCode(_ code: rd_kafka_resp_err_t) -> CourierError.Code {
        switch code {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
             RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
            return .messageTooLarge
        case RD_KAFKA_RESP_ERR__QUEUE_FULL:
            return .backpressure
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
             RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
            return .unroutable
        case RD_KAFKA_RESP_ERR__FATAL:
            return .fatal
        default:
            return .unavailable
        }
    }
}

/// C strings librdkafka wrote into a buffer of ours.
enum RDKafkaText {
    /// The text up to the first NUL of `buffer`.
    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
