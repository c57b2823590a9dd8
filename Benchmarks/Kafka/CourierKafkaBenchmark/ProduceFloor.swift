import CRDKafka
import Courier
import Foundation

/// `produce-floor`: the least a Swift producer of Courier's envelopes does, without CourierKafka.
///
/// One thread, raw_bench's `produce` settings (idempotent, acks=all, linger.ms=5): for every message it
/// builds the ``Envelope`` the Courier side builds (a fresh id, the shared payload, the key as its ordering
/// key), writes Courier's record with `rd_kafka_produceva` (the key, the `courier-id` header, the envelope's
/// time as the record timestamp) and counts delivery reports from `rd_kafka_poll`, as raw C does. No
/// batches, outcomes, breaker or bookkeeping: what is left between this and raw C is the cost of
/// Courier's envelope and record in Swift. Its ratio to raw C in the same run is the ceiling for
/// CourierKafka's publish.
func produceFloor(bootstrap: String, topic: String, count: Int, size: Int) throws -> (Int, Int, (seconds: Double, cpuNanoseconds: Int64)) {
    let producer = try FloorProducer(bootstrap: bootstrap)
    defer { producer.close() }
    let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
    // Outside the timed part, as raw_bench's: connections, metadata and the idempotent producer id.
    try producer.send(Envelope(topic: topic, payload: payload, orderingKey: "warm-up"))
    while producer.reports.delivered + producer.reports.failed < 1 { rd_kafka_poll(producer.handle, 10) }
    guard producer.reports.failed == 0 else { throw FloorError("the warm-up message was not delivered") }
    producer.reports.delivered = 0
    let measurement = Measurement()
    for index in 0..<count {
        try producer.send(Envelope(topic: topic, payload: payload, orderingKey: "key-\(index % 100)"))
        rd_kafka_poll(producer.handle, 0)
    }
    while producer.reports.delivered + producer.reports.failed < count { rd_kafka_poll(producer.handle, 10) }
    return (producer.reports.delivered, producer.reports.failed, measurement.stop())
}

/// Delivery reports counted by the C callback, which reaches them through librdkafka's opaque pointer.
private struct FloorReports {
    var delivered = 0
    var failed = 0
}

/// A librdkafka producer configured as raw_bench's `produce`.
private final class FloorProducer {
    let handle: OpaquePointer
    private let counts: UnsafeMutablePointer<FloorReports>

    var reports: FloorReports {
        get { counts.pointee }
        set { counts.pointee = newValue }
    }

    init(bootstrap: String) throws {
        let properties = [
            "bootstrap.servers": bootstrap, "enable.idempotence": "true", "acks": "all", "linger.ms": "5",
            "message.timeout.ms": "10000",
        ]
        let configuration = try floorConfiguration(properties)
        counts = .allocate(capacity: 1)
        counts.initialize(to: FloorReports())
        rd_kafka_conf_set_opaque(configuration, counts)
        rd_kafka_conf_set_dr_msg_cb(configuration) { _, message, opaque in
            guard let message, let reports = opaque?.assumingMemoryBound(to: FloorReports.self) else { return }
            if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                reports.pointee.delivered += 1
            } else {
                reports.pointee.failed += 1
            }
        }
        do {
            handle = try floorClient(RD_KAFKA_PRODUCER, configuration)
        } catch {
            counts.deallocate()
            throw error
        }
    }

    /// Writes `envelope` as Courier writes it; waits for room when librdkafka's queue is full.
    func send(_ envelope: Envelope) throws {
        while true {
            let error = produce(envelope)
            guard let error else { return }
            let code = rd_kafka_error_code(error)
            rd_kafka_error_destroy(error)
            guard code == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                throw FloorError("produce failed: \(String(cString: rd_kafka_err2str(code)))")
            }
            rd_kafka_poll(handle, 10)
        }
    }

    private func produce(_ envelope: Envelope) -> OpaquePointer? {
        var key = envelope.orderingKey ?? ""
        var id = envelope.id
        let timestamp = envelope.timestampMilliseconds
        return envelope.topic.withCString { topic in
            envelope.payload.withUnsafeBytes { payload in
                key.withUTF8 { key in
                    id.withUTF8 { id in
                        withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 6) { fields in
                            fields.initialize(repeating: rd_kafka_vu_t())
                            fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                            fields[0].u.cstr = topic
                            fields[1].vtype = RD_KAFKA_VTYPE_VALUE
                            fields[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: payload.baseAddress)
                            fields[1].u.mem.size = payload.count
                            fields[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                            fields[2].u.i = RD_KAFKA_MSG_F_COPY
                            fields[3].vtype = RD_KAFKA_VTYPE_KEY
                            fields[3].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                            fields[3].u.mem.size = key.count
                            fields[4].vtype = RD_KAFKA_VTYPE_TIMESTAMP
                            fields[4].u.i64 = timestamp
                            fields[5].vtype = RD_KAFKA_VTYPE_HEADER
                            fields[5].u.header.name = idHeaderName
                            fields[5].u.header.val = UnsafeRawPointer(id.baseAddress)
                            fields[5].u.header.size = id.count
                            return rd_kafka_produceva(handle, fields.baseAddress, 6)
                        }
                    }
                }
            }
        }
    }

    func close() {
        rd_kafka_flush(handle, 10_000)
        rd_kafka_destroy(handle)
        counts.deinitialize(count: 1)
        counts.deallocate()
    }
}
