import CRDKafka
import Courier
import Foundation
import Synchronization

/// A message read by `rd_kafka_consumer_poll`, seen in librdkafka's memory: valid only inside the
/// `decode` closure of ``RDKafkaConsumer/poll(timeoutMilliseconds:decode:)``, which copies out what it keeps.
struct RDKafkaMessageView {
    let topic: String
    let partition: Int32
    let offset: Int64
    let key: UnsafeRawBufferPointer?
    let payload: UnsafeRawBufferPointer
    /// Milliseconds since 1970, when the message carries a timestamp.
    let timestamp: Int64?
    fileprivate let headers: OpaquePointer?

    var location: KafkaPartition { KafkaPartition(topic: topic, partition: partition) }

    /// Calls `body` with each header's name and value bytes (`nil` for a null value), in wire order.
    func forEachHeader(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) -> Void) {
        guard let headers else { return }
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            index += 1
            guard let name else { continue }
            body(UnsafeRawBufferPointer(start: name, count: strlen(name)), value.map { UnsafeRawBufferPointer(start: $0, count: size) })
        }
    }
}

/// What one poll returned.
enum RDKafkaPollResult<Decoded> {
    case record(Decoded)
    case error(code: rd_kafka_resp_err_t, message: String)
    case nothing
}

/// A librdkafka high-level (group) consumer. Every call except ``storeOffsets(_:)`` belongs to the
/// subscription's poll thread; rebalances are handled inside ``poll(timeoutMilliseconds:)``.
final class RDKafkaConsumer: @unchecked Sendable {
    let handle: RDKafkaHandle
    /// Topic names by librdkafka topic handle, so a name is not copied out of C for every message.
    /// Only the poll thread touches it.
    private var topicNames: [OpaquePointer: String] = [:]
    /// The last topic looked up: messages come in runs from one topic, so most need no hashing.
    private var lastTopic: (handle: OpaquePointer, name: String)?
    private let closed = Atomic<Bool>(false)
    /// The queue `rd_kafka_consumer_poll` reads, where every assigned partition's fetched messages wait.
    private let consumerQueue: OpaquePointer?

    init(properties: [String: String], context: RDKafkaClientContext) throws(CourierError) {
        let config = try RDKafkaConfig(properties)
        handle = try RDKafkaHandle(type: RD_KAFKA_CONSUMER, config: config, context: context)
        // Errors and rebalances then come out of rd_kafka_consumer_poll, on the poll thread.
        rd_kafka_poll_set_consumer(handle.pointer)
        consumerQueue = rd_kafka_queue_get_consumer(handle.pointer)
    }

    /// Messages (and events) fetched and not yet polled.
    var queuedMessages: Int { consumerQueue.map { Int(rd_kafka_queue_length($0)) } ?? 0 }

    /// Sends each broker leading one of `partitions` a small request (ListOffsets), so its fetcher thread
    /// wakes and fetches again. librdkafka before 2.3 stops fetching a partition while `queued.min.messages`
    /// are queued and looks again only when that thread wakes for something else, up to a second later,
    /// however fast the queue drains. Waits at most `timeoutMilliseconds` for the answers, which are not
    /// needed: the request itself is the wake-up.
    func wakeFetchers(for partitions: [KafkaPartition], timeoutMilliseconds: Int32) {
        guard !partitions.isEmpty else { return }
        _ = RDKafkaPartitionList.with(partitions.map { ($0, Int64(-1)) }) { list in
            rd_kafka_offsets_for_times(handle.pointer, list, timeoutMilliseconds)
        }
    }

    func subscribe(_ topics: [String]) throws(CourierError) {
        let error = RDKafkaPartitionList.with(topics.map { (KafkaPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA), nil) }) { list in
            rd_kafka_subscribe(handle.pointer, list)
        } ?? RD_KAFKA_RESP_ERR__FAIL
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw CourierError(.invalidConfiguration, "Kafka consumer could not subscribe to \(topics.joined(separator: ", ")): \(RDKafkaError.describe(error))")
        }
    }

    /// Polls once; a message is handed to `decode` while librdkafka still holds it, so only what
    /// `decode` keeps is copied.
    func poll<Decoded>(timeoutMilliseconds: Int32, decode: (RDKafkaMessageView) -> Decoded) -> RDKafkaPollResult<Decoded> {
        guard let message = rd_kafka_consumer_poll(handle.pointer, timeoutMilliseconds) else { return .nothing }
        defer { rd_kafka_message_destroy(message) }
        let value = message.pointee
        guard value.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? RDKafkaError.describe(value.err)
            return .error(code: value.err, message: text)
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        var headers: OpaquePointer?
        if rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR { headers = nil }
        let view = RDKafkaMessageView(
            // A closure, not the method itself: a method reference would retain this consumer per message.
            topic: value.rkt.map { topicName($0) } ?? "",
            partition: value.partition,
            offset: value.offset,
            key: value.key.map { UnsafeRawBufferPointer(start: $0, count: value.key_len) },
            payload: UnsafeRawBufferPointer(start: value.payload, count: value.payload == nil ? 0 : value.len),
            timestamp: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp,
            headers: headers
        )
        return .record(decode(view))
    }

    private func topicName(_ topic: OpaquePointer) -> String {
        let cName = rd_kafka_topic_name(topic)
        // Compared, not trusted: a destroyed handle's address could come back for another topic.
        if let lastTopic, lastTopic.handle == topic, let cName, lastTopic.name.withCString({ strcmp($0, cName) == 0 }) {
            return lastTopic.name
        }
        if let name = topicNames[topic], let cName, name.withCString({ strcmp($0, cName) == 0 }) {
            lastTopic = (topic, name)
            return name
        }
        let name = cName.map { String(cString: $0) } ?? ""
        topicNames[topic] = name
        lastTopic = (topic, name)
        return name
    }

    /// Stores the next offsets to commit. Thread-safe; fails quietly for partitions no longer assigned.
    func storeOffsets(_ offsets: [(KafkaPartition, Int64)]) {
        guard !offsets.isEmpty else { return }
        _ = RDKafkaPartitionList.with(offsets.map { ($0.0, $0.1) }) { list in
            rd_kafka_offsets_store(handle.pointer, list)
        }
    }

    /// Commits the stored offsets and waits for the answer. "No offset" (nothing new) is not an error.
    @discardableResult
    func commit() -> rd_kafka_resp_err_t {
        let error = rd_kafka_commit(handle.pointer, nil, 0)
        return error == RD_KAFKA_RESP_ERR__NO_OFFSET ? RD_KAFKA_RESP_ERR_NO_ERROR : error
    }

    func pause(_ partitions: [KafkaPartition]) {
        guard !partitions.isEmpty else { return }
        _ = RDKafkaPartitionList.with(partitions.map { ($0, nil) }) { rd_kafka_pause_partitions(handle.pointer, $0) }
    }

    func resume(_ partitions: [KafkaPartition]) {
        guard !partitions.isEmpty else { return }
        _ = RDKafkaPartitionList.with(partitions.map { ($0, nil) }) { rd_kafka_resume_partitions(handle.pointer, $0) }
    }

    /// Leaves the group cleanly (revoking the assignment, which commits) and destroys the handle.
    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if let consumerQueue { rd_kafka_queue_destroy(consumerQueue) }
        _ = rd_kafka_consumer_close(handle.pointer)
        handle.destroy()
    }
}
