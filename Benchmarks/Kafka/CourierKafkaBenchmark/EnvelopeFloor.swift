import CRDKafka
import Courier
import Foundation

/// `consume-floor`: the least a Swift consumer handing out owned messages does, without CourierKafka.
///
/// One thread polls librdkafka with the settings of raw_bench's `consume` and, for every record, builds
/// the ``Envelope`` Courier's API promises (the `courier-id` value as its id, the payload copied, the
/// record timestamp), wraps it in one object as a delivery would, passes it to a handler that reads the
/// payload, and stores the offset. No poll thread, no hand-off, no async settle, no bookkeeping: what is
/// left between this and raw C is the cost of owned envelopes in Swift, which no consumer built on them
/// can avoid. Its ratio to raw C in the same run is the ceiling for CourierKafka's.
func consumeFloor(bootstrap: String, topic: String, count: Int, group: String) throws -> (Int, Int, (seconds: Double, cpuNanoseconds: Int64)) {
    let consumer = try FloorConsumer(bootstrap: bootstrap, group: group, topic: topic)
    defer { consumer.close() }
    var received = 0
    var bytes = 0
    var measurement: Measurement?
    let handler = { (delivery: FloorDelivery) in bytes += delivery.envelope.payload.count }
    while received < count {
        guard let message = rd_kafka_consumer_poll(consumer.handle, 100) else { continue }
        defer { rd_kafka_message_destroy(message) }
        let record = message.pointee
        guard record.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
        if measurement == nil { measurement = Measurement() }
        handler(FloorDelivery(envelope: envelope(of: message, topic: topic), partition: record.partition, offset: record.offset))
        rd_kafka_offset_store(record.rkt, record.partition, record.offset)
        received += 1
    }
    return (received, bytes, (measurement ?? Measurement()).stop())
}

/// What a delivery is at the least: the envelope and where it came from, in one object.
private final class FloorDelivery {
    let envelope: Envelope
    let partition: Int32
    let offset: Int64

    init(envelope: Envelope, partition: Int32, offset: Int64) {
        self.envelope = envelope
        self.partition = partition
        self.offset = offset
    }
}

private func envelope(of message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) -> Envelope {
    let record = message.pointee
    var headers: OpaquePointer?
    var id = ""
    if rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers {
        var value: UnsafeRawPointer?
        var size = 0
        if rd_kafka_header_get_last(headers, idHeaderName, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR, let value {
            id = String(decoding: UnsafeRawBufferPointer(start: value, count: size), as: UTF8.self)
        }
    }
    var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
    let milliseconds = rd_kafka_message_timestamp(message, &timestampType)
    let payload = record.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: record.len)) } ?? []
    return Envelope(topic: topic, payload: payload, id: id, timestamp: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
}

/// A librdkafka group consumer subscribed to one topic, configured as raw_bench's `consume`.
private final class FloorConsumer {
    let handle: OpaquePointer

    init(bootstrap: String, group: String, topic: String) throws {
        let properties = [
            "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.offset.store": "false", "enable.auto.commit": "true", "auto.commit.interval.ms": "1000",
            "fetch.wait.max.ms": "100",
        ]
        let handle = try floorClient(RD_KAFKA_CONSUMER, floorConfiguration(properties))
        self.handle = handle
        rd_kafka_poll_set_consumer(handle)
        let topics = rd_kafka_topic_partition_list_new(1)
        rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA)
        let subscribed = rd_kafka_subscribe(handle, topics)
        rd_kafka_topic_partition_list_destroy(topics)
        guard subscribed == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_destroy(handle)
            throw FloorError("could not subscribe to \(topic): \(String(cString: rd_kafka_err2str(subscribed)))")
        }
    }

    func close() {
        rd_kafka_consumer_close(handle)
        rd_kafka_destroy(handle)
    }
}
