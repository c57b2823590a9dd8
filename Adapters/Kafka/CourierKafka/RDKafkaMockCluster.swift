import CRDKafka
import Courier
import Synchronization

/// librdkafka's mock cluster, run by a dedicated handle of its own. All calls are thread-safe.
final class RDKafkaMockCluster: @unchecked Sendable {
    private let handle: RDKafkaHandle
    private let cluster: OpaquePointer
    private let destroyed = Atomic<Bool>(false)
    let bootstraps: String
    private let brokerPorts: Set<UInt16>

    init(brokers: Int, logger: any CourierLogger) throws(CourierError) {
        let config = RDKafkaConfig()
        handle = try RDKafkaHandle(type: RD_KAFKA_PRODUCER, config: config, context: RDKafkaClientContext(name: "kafka-mock", logger: logger))
        guard let cluster = rd_kafka_mock_cluster_new(handle.pointer, Int32(brokers)),
              let bootstraps = rd_kafka_mock_cluster_bootstraps(cluster) else {
            handle.destroy()
            throw CourierError(.unavailable, "librdkafka could not start a mock cluster with \(brokers) brokers (no free loopback ports?)")
        }
        self.cluster = cluster
        self.bootstraps = String(cString: bootstraps)
        brokerPorts = MockBrokerNoDelay.ports(of: self.bootstraps)
        MockBrokerNoDelay.apply(toListenersOn: brokerPorts)
    }

    func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32) -> rd_kafka_resp_err_t {
        rd_kafka_mock_topic_create(cluster, name, partitions, replicationFactor)
    }

    func setTopicError(_ topic: String, _ error: rd_kafka_resp_err_t) {
        rd_kafka_mock_topic_set_error(cluster, topic, error)
    }

    func setBroker(_ broker: Int32, up: Bool) -> rd_kafka_resp_err_t {
        guard up else { return rd_kafka_mock_broker_set_down(cluster, broker) }
        let error = rd_kafka_mock_broker_set_up(cluster, broker)
        // A broker set down gave up its listener (it keeps the port bound, not listening); the one it
        // listens on again needs the option too (see ``MockBrokerNoDelay``).
        MockBrokerNoDelay.apply(toListenersOn: brokerPorts)
        return error
    }

    func setRoundTripTime(_ milliseconds: Int32, broker: Int32) -> rd_kafka_resp_err_t {
        rd_kafka_mock_broker_set_rtt(cluster, broker, milliseconds)
    }

    func pushRequestErrors(api: Int16, errors: [rd_kafka_resp_err_t]) {
        errors.withUnsafeBufferPointer { rd_kafka_mock_push_request_errors_array(cluster, api, $0.count, $0.baseAddress) }
    }

    func clearRequestErrors(api: Int16) {
        rd_kafka_mock_clear_request_errors(cluster, api)
    }

    func setLeader(topic: String, partition: Int32, broker: Int32) -> rd_kafka_resp_err_t {
        rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker)
    }

    func destroy() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        rd_kafka_mock_cluster_destroy(cluster)
        handle.destroy()
    }

    deinit { destroy() }
}
