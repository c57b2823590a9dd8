import CRDKafka
import Courier

/// One partition of one topic.
struct KafkaPartition: Hashable, Sendable, CustomStringConvertible {
    var topic: String
    var partition: Int32
    var description: String { "\(topic)[\(partition)]" }
}

/// What librdkafka asked for in a rebalance.
enum RDKafkaRebalance {
    /// Before the partitions are assigned.
    case assign([KafkaPartition])
    /// Right after they were assigned, before any of them is fetched: the moment to pause some.
    case assigned([KafkaPartition])
    /// Before the partitions are taken away.
    case revoke([KafkaPartition])
}

/// The object behind a handle's `opaque` pointer: where its log lines go and, for consumers, who
/// handles rebalances. Set up before the handle exists and never changed after, so librdkafka's threads
/// may read it.
final class RDKafkaClientContext: @unchecked Sendable {
    let name: String
    let logger: any CourierLogger
    /// Called on the consumer's poll thread, inside `rd_kafka_consumer_poll`: before the assignment
    /// changes, and once more right after partitions were assigned.
    let onRebalance: (@Sendable (RDKafkaRebalance) -> Void)?

    init(name: String, logger: any CourierLogger, onRebalance: (@Sendable (RDKafkaRebalance) -> Void)? = nil) {
        self.name = name
        self.logger = logger
        self.onRebalance = onRebalance
    }

    /// Installs the log and rebalance callbacks on `config`, with this context as their opaque.
    /// The returned pointer holds a reference that ``releaseOpaque(_:)`` gives back after the handle is destroyed.
    func install(on config: RDKafkaConfig) -> UnsafeMutableRawPointer {
        let opaque = Unmanaged.passRetained(self).toOpaque()
        rd_kafka_conf_set_opaque(config.pointer, opaque)
        rd_kafka_conf_set_log_cb(config.pointer, rdKafkaLogCallback)
        if onRebalance != nil { rd_kafka_conf_set_rebalance_cb(config.pointer, rdKafkaRebalanceCallback) }
        return opaque
    }

    static func releaseOpaque(_ opaque: UnsafeMutableRawPointer) {
        Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).release()
    }

    static func from(_ handle: OpaquePointer?) -> RDKafkaClientContext? {
        guard let handle, let opaque = rd_kafka_opaque(handle) else { return nil }
        return Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }

    func log(syslogLevel: Int32, facility: String, message: String) {
        // syslog levels: 0-3 errors, 4 warning, 5-6 notice/info, 7 debug. librdkafka reports every
        // broker disconnect as an error, which is routine for a fault-tolerant client: log it as info.
        // CONFWARN says a consumer property was given to a producer (or the reverse): expected, since one
        // set of properties configures both.
        let level: LogLevel = syslogLevel <= 4 && facility != "CONFWARN" ? .info : .debug
        logger.log(level: level, "librdkafka \(facility): \(message)", metadata: ["transport": name])
    }
}

/// librdkafka log lines go to the handle's Courier logger instead of standard error.
private func rdKafkaLogCallback(_ handle: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?, _ message: UnsafePointer<CChar>?) {
    guard let context = RDKafkaClientContext.from(handle) else { return }
    context.log(
        syslogLevel: level,
        facility: facility.map { String(cString: $0) } ?? "",
        message: message.map { String(cString: $0) } ?? ""
    )
}

/// Rebalances: tell the context first (it commits and forgets revoked partitions), then apply.
private func rdKafkaRebalanceCallback(
    _ handle: OpaquePointer?,
    _ error: rd_kafka_resp_err_t,
    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    let list = RDKafkaPartitionList.read(partitions)
    let context = RDKafkaClientContext.from(handle)
    if error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
        context?.onRebalance?(.assign(list))
        rd_kafka_assign(handle, partitions)
        context?.onRebalance?(.assigned(list))
    } else {
        context?.onRebalance?(.revoke(list))
        rd_kafka_assign(handle, nil)
    }
}

/// Reads and builds `rd_kafka_topic_partition_list_t`s.
enum RDKafkaPartitionList {
    static func read(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> [KafkaPartition] {
        guard let list, let elements = list.pointee.elems else { return [] }
        return (0..<Int(list.pointee.cnt)).compactMap { index in
            guard let topic = elements[index].topic else { return nil }
            return KafkaPartition(topic: String(cString: topic), partition: elements[index].partition)
        }
    }

    /// Runs `body` with a list of `partitions`, each with its offset when one is given.
    static func with<R>(
        _ partitions: [(KafkaPartition, Int64?)],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> R
    ) -> R? {
        guard let list = rd_kafka_topic_partition_list_new(Int32(partitions.count)) else { return nil }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (partition, offset) in partitions {
            guard let element = rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition) else { continue }
            if let offset { element.pointee.offset = offset }
        }
        return body(list)
    }
}
