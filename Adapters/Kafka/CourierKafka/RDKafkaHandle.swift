import CRDKafka
import Courier
import Synchronization

/// One `rd_kafka_t` (producer or consumer) and the context behind its opaque pointer.
/// librdkafka handles are thread-safe; ``destroy()`` runs once, on whichever thread calls it first.
final class RDKafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    private let opaque: UnsafeMutableRawPointer
    private let destroyed = Atomic<Bool>(false)

    init(type: rd_kafka_type_t, config: RDKafkaConfig, context: RDKafkaClientContext) throws(CourierError) {
        let opaque = context.install(on: config)
        var message = [CChar](repeating: 0, count: 512)
        guard let pointer = rd_kafka_new(type, config.pointer, &message, message.count) else {
            RDKafkaClientContext.releaseOpaque(opaque)
            let kind = type == RD_KAFKA_PRODUCER ? "producer" : "consumer"
            throw CourierError(.invalidConfiguration, "librdkafka could not create a \(kind): \(RDKafkaText.string(message))")
        }
        config.release()
        self.pointer = pointer
        self.opaque = opaque
    }

    /// Destroys the handle (blocking until librdkafka's threads are gone). Idempotent.
    func destroy() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        rd_kafka_destroy(pointer)
        RDKafkaClientContext.releaseOpaque(opaque)
    }

    deinit { destroy() }

    /// The fatal error raised on this handle, if any: its code and librdkafka's description.
    func raisedFatalError() -> (code: rd_kafka_resp_err_t, message: String)? {
        var message = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(pointer, &message, message.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return (code, RDKafkaText.string(message))
    }
}
