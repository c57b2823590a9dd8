import Courier

/// Kafka's rules for topic names, checked before a request is sent (brokers reject other names; the
/// mock cluster does not, so without this check a test would accept what production refuses).
enum KafkaTopicName {
    static let maxLength = 249

    static func validate(_ topic: String) throws(CourierError) {
        let legal = topic.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard legal, !topic.isEmpty, topic.utf8.count <= maxLength, topic != ".", topic != ".." else {
            throw CourierError(
                .invalidMessage,
                "\"\(topic)\" is not a valid Kafka topic name; use 1 to \(maxLength) letters, digits, '.', '_' or '-' (not \".\" or \"..\")"
            )
        }
    }
}
