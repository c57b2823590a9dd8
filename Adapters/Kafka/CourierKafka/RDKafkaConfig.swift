import CRDKafka
import Courier

/// An `rd_kafka_conf_t` being filled in. librdkafka takes ownership when a handle is made from it;
/// until then this object destroys it.
final class RDKafkaConfig {
    private(set) var pointer: OpaquePointer?

    init() { pointer = rd_kafka_conf_new() }

    /// A configuration with every property in `properties` set, in key order.
    convenience init(_ properties: [String: String]) throws(CourierError) {
        self.init()
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) { try set(key, value) }
    }

    deinit {
        if let pointer { rd_kafka_conf_destroy(pointer) }
    }

    /// Sets one property; an invalid name or value is reported with librdkafka's own message.
    func set(_ key: String, _ value: String) throws(CourierError) {
        guard let pointer else { return }
        var message = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(pointer, key, value, &message, message.count)
        guard result == RD_KAFKA_CONF_OK else {
            let shown = KafkaProperties.isSecret(key) ? "***" : value
            throw CourierError(
                .invalidConfiguration,
                "librdkafka rejected property \(key)=\"\(shown)\": \(RDKafkaText.string(message))"
            )
        }
    }

    /// Gives the configuration to librdkafka, which owns it from now on.
    func release() { pointer = nil }
}
