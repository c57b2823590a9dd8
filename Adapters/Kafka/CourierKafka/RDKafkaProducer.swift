import CRDKafka
import Courier
import Foundation
import Synchronization

/// One delivery report, read from the event queue: which message (the opaque id given to
/// ``RDKafkaProducer/produce(_:)``), its error, whether the broker may have it, and where it was stored.
struct RDKafkaDeliveryReport: Sendable {
    var id: UInt64
    var error: rd_kafka_resp_err_t
    var status: rd_kafka_msg_status_t
    var partition: Int32
    var offset: Int64
}

/// What the producer's poll thread reports.
enum RDKafkaProducerEvent: Sendable {
    case deliveries([RDKafkaDeliveryReport])
    case error(code: rd_kafka_resp_err_t, message: String, isFatal: Bool)
}

/// The Kafka key of a message to produce: none, bytes, or the UTF-8 of a string (no copy).
enum RDKafkaKey {
    case none
    case bytes([UInt8])
    case text(String)
}

/// Adds headers to a message being produced, straight from Swift strings (no intermediate copies).
/// Made by ``RDKafkaProducer/makeHeaders(count:)`` and handed to ``RDKafkaProducer/produce(topic:key:payload:id:timestamp:headers:)``,
/// which takes them over.
struct RDKafkaHeaderWriter {
    fileprivate let headers: OpaquePointer

    func add(_ name: String, _ value: String) {
        // A native string lends its UTF-8 in place; only another kind is copied (`withUTF8` mutates, so
        // it always took a copy, and a reference count, of both strings).
        var added = false
        _ = name.utf8.withContiguousStorageIfAvailable { name in
            _ = value.utf8.withContiguousStorageIfAvailable { value in
                _ = rd_kafka_header_add(headers, name.baseAddress, name.count, value.baseAddress, value.count)
                added = true
            }
        }
        if added { return }
        var name = name
        var value = value
        name.withUTF8 { name in
            value.withUTF8 { value in
                _ = rd_kafka_header_add(headers, name.baseAddress, name.count, value.baseAddress, value.count)
            }
        }
    }
}

/// A librdkafka producer. Delivery reports and errors are read from its event queue by one dedicated
/// poll thread (no per-message callbacks) and handed to `onEvent` in batches.
final class RDKafkaProducer: @unchecked Sendable {
    let handle: RDKafkaHandle
    private let queue: OpaquePointer
    private let onEvent: @Sendable (RDKafkaProducerEvent) -> Void
    private let drainDeadline = Mutex<ContinuousClock.Instant?>(nil)
    private let finished = Latch()

    init(properties: [String: String], context: RDKafkaClientContext, onEvent: @escaping @Sendable (RDKafkaProducerEvent) -> Void) throws(CourierError) {
        let config = try RDKafkaConfig(properties)
        rd_kafka_conf_set_events(config.pointer, RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR)
        handle = try RDKafkaHandle(type: RD_KAFKA_PRODUCER, config: config, context: context)
        guard let queue = rd_kafka_queue_get_main(handle.pointer) else {
            handle.destroy()
            throw CourierError(.fatal, "librdkafka gave no main event queue for the producer")
        }
        self.queue = queue
        self.onEvent = onEvent
        let thread = Thread { [self] in pollLoop() }
        thread.name = "courier-kafka-producer"
        thread.start()
    }

    /// Enqueues one message; its outcome arrives later as a delivery report carrying `id`. Throws the
    /// error code when librdkafka refuses it at once (queue full, too large, fatal state, ...).
    /// `writeHeaders` adds the message's headers (`headerCount` of them, a sizing hint).
    func produce(
        topic: String, key: RDKafkaKey, payload: [UInt8], id: UInt64, timestamp: Int64? = nil,
        headerCount: Int, writeHeaders: (RDKafkaHeaderWriter) -> Void
    ) throws(RDKafkaProduceRefusal) {
        let headers = try Self.makeHeaders(count: headerCount)
        writeHeaders(headers)
        try produce(topic: topic, key: key, payload: payload, id: id, timestamp: timestamp, headers: headers)
    }

    /// Headers for one message (`count` is a sizing hint), to fill and pass to ``produce(topic:key:payload:id:timestamp:headers:)``.
    static func makeHeaders(count: Int) throws(RDKafkaProduceRefusal) -> RDKafkaHeaderWriter {
        guard let headers = rd_kafka_headers_new(count) else {
            throw RDKafkaProduceRefusal(code: RD_KAFKA_RESP_ERR__FAIL, message: "could not allocate headers")
        }
        return RDKafkaHeaderWriter(headers: headers)
    }

    /// Enqueues one message with `headers` (which it takes over, whatever the outcome); see
    /// ``produce(topic:key:payload:id:timestamp:headerCount:writeHeaders:)``. `timestamp` (ms since 1970,
    /// above 0) becomes the record's timestamp; without it librdkafka stamps the time of this call.
    func produce(
        topic: String, key: RDKafkaKey, payload: [UInt8], id: UInt64, timestamp: Int64? = nil, headers writer: RDKafkaHeaderWriter
    ) throws(RDKafkaProduceRefusal) {
        let headers = writer.headers
        let error: OpaquePointer? = topic.withCString { topic in
            payload.withUnsafeBytes { payload in
                withKey(key) { key in
                    withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { fields in
                        fields.initialize(repeating: rd_kafka_vu_t())
                        fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                        fields[0].u.cstr = topic
                        fields[1].vtype = RD_KAFKA_VTYPE_VALUE
                        fields[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: payload.baseAddress)
                        fields[1].u.mem.size = payload.count
                        fields[2].vtype = RD_KAFKA_VTYPE_OPAQUE
                        fields[2].u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(id))
                        fields[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                        fields[3].u.i = RD_KAFKA_MSG_F_COPY
                        fields[4].vtype = RD_KAFKA_VTYPE_HEADERS
                        fields[4].u.headers = headers
                        var count = 5
                        if let key {
                            fields[count].vtype = RD_KAFKA_VTYPE_KEY
                            fields[count].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                            fields[count].u.mem.size = key.count
                            count += 1
                        }
                        if let timestamp {
                            fields[count].vtype = RD_KAFKA_VTYPE_TIMESTAMP
                            fields[count].u.i64 = timestamp
                            count += 1
                        }
                        return rd_kafka_produceva(handle.pointer, fields.baseAddress, count)
                    }
                }
            }
        }
        guard let error else { return }
        // On failure the headers stay ours.
        rd_kafka_headers_destroy(headers)
        let refusal = RDKafkaProduceRefusal(code: rd_kafka_error_code(error), message: String(cString: rd_kafka_error_string(error)))
        rd_kafka_error_destroy(error)
        throw refusal
    }

    private func withKey<R>(_ key: RDKafkaKey, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        switch key {
        case .none:
            return body(nil)
        case .bytes(let bytes):
            return bytes.withUnsafeBytes { Self.withNonNullKey($0, body) }
        case .text(var text):
            return text.withUTF8 { Self.withNonNullKey(UnsafeRawBufferPointer($0), body) }
        }
    }

    /// librdkafka sends a key at a null address as no key at all: an empty key must point somewhere.
    private static func withNonNullKey<R>(_ key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard key.baseAddress == nil else { return body(key) }
        return withUnsafeBytes(of: UInt8(0)) { body(UnsafeRawBufferPointer(start: $0.baseAddress, count: 0)) }
    }

    /// Messages librdkafka still holds (queued or in flight).
    var outstanding: Int { Int(rd_kafka_outq_len(handle.pointer)) }

    /// Stops the poll thread once every outstanding message has a report or `timeout` has passed (then
    /// the rest are purged and reported as such), and destroys the handle. Returns when done.
    func close(timeout: Duration) async {
        drainDeadline.withLock { deadline in
            if deadline == nil { deadline = .now + timeout }
        }
        await finished.wait()
    }

    private func pollLoop() {
        // `Thread.name` does not reach the kernel on Linux; named, the thread shows in top, perf and gdb.
        courier_name_current_thread("courier-kafka-p")
        var purged = false
        var purgeDeadline: ContinuousClock.Instant?
        while true {
            if let event = rd_kafka_queue_poll(queue, 100) {
                dispatch(event)
                rd_kafka_event_destroy(event)
                continue
            }
            guard let deadline = drainDeadline.withLock({ $0 }) else { continue }
            if rd_kafka_outq_len(handle.pointer) == 0 { break }
            if !purged, ContinuousClock.now >= deadline {
                // Whatever is left gets a report with a purge error, which resolves its publish.
                rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
                purged = true
                purgeDeadline = .now + .seconds(2)
            }
            if let purgeDeadline, ContinuousClock.now >= purgeDeadline { break }
        }
        rd_kafka_queue_destroy(queue)
        handle.destroy()
        finished.open()
    }

    private func dispatch(_ event: OpaquePointer) {
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_DR:
            var reports: [RDKafkaDeliveryReport] = []
            reports.reserveCapacity(Int(rd_kafka_event_message_count(event)))
            while let message = rd_kafka_event_message_next(event) {
                reports.append(RDKafkaDeliveryReport(
                    id: UInt64(UInt(bitPattern: message.pointee._private)),
                    error: message.pointee.err,
                    status: rd_kafka_message_status(message),
                    partition: message.pointee.partition,
                    offset: message.pointee.offset
                ))
            }
            onEvent(.deliveries(reports))
        case RD_KAFKA_EVENT_ERROR:
            let isFatal = rd_kafka_event_error_is_fatal(event) != 0
            var code = rd_kafka_event_error(event)
            var message = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? RDKafkaError.describe(code)
            if isFatal, let fatal = handle.raisedFatalError() {
                code = fatal.code
                message = fatal.message
            }
            onEvent(.error(code: code, message: message, isFatal: isFatal))
        default:
            break
        }
    }
}

/// librdkafka refused a message at once, before it was queued.
struct RDKafkaProduceRefusal: Error {
    var code: rd_kafka_resp_err_t
    var message: String
}
