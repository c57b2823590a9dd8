import CRabbitMQ
import CRabbitMQLogin
import Courier
import Glibc

/// One open librabbitmq connection. librabbitmq is not thread-safe: only the owning connection thread
/// ever calls into a session.
final class RabbitMQSession {
    private let state: amqp_connection_state_t
    /// `host:port` this session is connected to.
    let address: String
    private var isDestroyed = false
    /// Reused by every publish: librabbitmq has copied the strings into its frame by the time it returns.
    private let publishArena = RabbitMQArena()
    /// Deliveries of a consumer share their exchange and routing key: decoded once per run, not per message.
    private var exchanges = RabbitMQStringCache()
    private var routingKeys = RabbitMQStringCache()

    /// Opens a socket to `endpoint` and logs in. Throws a failure that says what went wrong.
    init(settings: AMQPConnectionSettings, endpoint: AMQPEndpoint) throws(AMQPConnectFailure) {
        address = "\(endpoint.host):\(endpoint.port)"
        guard let state = amqp_new_connection() else {
            throw AMQPConnectFailure(stage: .socket, failure: .library(status: AMQP_STATUS_NO_MEMORY.rawValue))
        }
        self.state = state
        do {
            try Self.open(state, settings: settings, endpoint: endpoint)
        } catch {
            amqp_destroy_connection(state)
            isDestroyed = true
            throw error
        }
    }

    deinit { destroy() }

    private static func open(_ state: amqp_connection_state_t, settings: AMQPConnectionSettings, endpoint: AMQPEndpoint) throws(AMQPConnectFailure) {
        let socket: OpaquePointer?
        if let tls = settings.tls {
            socket = amqp_ssl_socket_new(state)
            if let socket { try RabbitMQTLS.configure(socket, tls) }
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else {
            throw AMQPConnectFailure(stage: .socket, failure: .library(status: AMQP_STATUS_NO_MEMORY.rawValue))
        }
        var timeout = rabbitMQTimeval(settings.connectTimeout)
        let status = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPConnectFailure(stage: .socket, failure: .library(status: status))
        }
        amqp_set_handshake_timeout(state, &timeout)
        var rpcTimeout = rabbitMQTimeval(settings.rpcTimeout)
        amqp_set_rpc_timeout(state, &rpcTimeout)
        let reply = courier_amqp_login_plain(
            state, settings.vhost, 0, settings.frameMax, Int32(settings.heartbeatSeconds), settings.user, settings.password
        )
        if let failure = RabbitMQFailure(reply: reply, channel: 0) {
            throw AMQPConnectFailure(stage: .login, failure: failure)
        }
    }

    /// Closes the connection politely when it is still up, then frees it.
    func close() {
        guard !isDestroyed else { return }
        _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
        destroy()
    }

    /// Frees the connection without talking to the broker (after the socket failed).
    func destroy() {
        guard !isDestroyed else { return }
        isDestroyed = true
        amqp_destroy_connection(state)
    }

    /// The socket's descriptor, to wait on with poll().
    var socketDescriptor: Int32 { amqp_get_sockfd(state) }

    /// Whether frames are already read and waiting, so poll() would wait for nothing.
    var hasBufferedInput: Bool { amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 }

    /// The negotiated frame size limit.
    var frameMax: Int { Int(amqp_get_frame_max(state)) }

    // MARK: RPCs

    private func check(channel: UInt16) throws(RabbitMQFailure) {
        if let failure = RabbitMQFailure(reply: amqp_get_rpc_reply(state), channel: channel) {
            acknowledgeClose(failure)
            throw failure
        }
    }

    /// Answers a broker-initiated close as the protocol requires.
    func acknowledgeClose(_ failure: RabbitMQFailure) {
        switch failure {
        case .channelClosed(let channel, _, _):
            var ok = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, channel, RabbitMQMethod.channelCloseOk, &ok)
        case .connectionClosed:
            var ok = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, RabbitMQMethod.connectionCloseOk, &ok)
        case .library:
            break
        }
    }

    func openChannel(_ channel: UInt16) throws(RabbitMQFailure) {
        _ = amqp_channel_open(state, channel)
        try check(channel: channel)
    }

    func closeChannel(_ channel: UInt16) throws(RabbitMQFailure) {
        let reply = amqp_channel_close(state, channel, Int32(AMQP_REPLY_SUCCESS))
        if let failure = RabbitMQFailure(reply: reply, channel: channel) {
            acknowledgeClose(failure)
            throw failure
        }
    }

    func enableConfirms(_ channel: UInt16) throws(RabbitMQFailure) {
        _ = amqp_confirm_select(state, channel)
        try check(channel: channel)
    }

    func declareExchange(_ channel: UInt16, name: String, type: String) throws(RabbitMQFailure) {
        let arena = RabbitMQArena()
        _ = amqp_exchange_declare(state, channel, arena.bytes(name), arena.bytes(type), 0, 1, 0, 0, amqp_empty_table)
        try check(channel: channel)
    }

    /// Declares a queue and returns its name (the broker names it when `name` is empty).
    func declareQueue(
        _ channel: UInt16, name: String, durable: Bool, exclusive: Bool, autoDelete: Bool,
        arguments: [(key: String, value: AMQPFieldValue)]
    ) throws(RabbitMQFailure) -> String {
        let arena = RabbitMQArena()
        let table = RabbitMQTable.make(arguments, in: arena)
        let ok = amqp_queue_declare(state, channel, arena.bytes(name), 0, durable ? 1 : 0, exclusive ? 1 : 0, autoDelete ? 1 : 0, table)
        try check(channel: channel)
        guard let ok else { return name }
        return ok.pointee.queue.string
    }

    func bindQueue(_ channel: UInt16, queue: String, exchange: String, bindingKey: String) throws(RabbitMQFailure) {
        let arena = RabbitMQArena()
        _ = amqp_queue_bind(state, channel, arena.bytes(queue), arena.bytes(exchange), arena.bytes(bindingKey), amqp_empty_table)
        try check(channel: channel)
    }

    func deleteExchange(_ channel: UInt16, name: String) throws(RabbitMQFailure) {
        let arena = RabbitMQArena()
        _ = amqp_exchange_delete(state, channel, arena.bytes(name), 0)
        try check(channel: channel)
    }

    func deleteQueue(_ channel: UInt16, name: String) throws(RabbitMQFailure) {
        let arena = RabbitMQArena()
        _ = amqp_queue_delete(state, channel, arena.bytes(name), 0, 0)
        try check(channel: channel)
    }

    func setPrefetch(_ channel: UInt16, count: Int) throws(RabbitMQFailure) {
        _ = amqp_basic_qos(state, channel, 0, UInt16(clamping: count), 0)
        try check(channel: channel)
    }

    /// Starts consuming `queue` with manual acks and returns the consumer tag.
    func consume(_ channel: UInt16, queue: String) throws(RabbitMQFailure) -> String {
        let arena = RabbitMQArena()
        let ok = amqp_basic_consume(state, channel, arena.bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table)
        try check(channel: channel)
        return ok?.pointee.consumer_tag.string ?? ""
    }

    func cancel(_ channel: UInt16, consumerTag: String) throws(RabbitMQFailure) {
        let arena = RabbitMQArena()
        _ = amqp_basic_cancel(state, channel, arena.bytes(consumerTag))
        try check(channel: channel)
    }

    // MARK: Asynchronous methods (no reply awaited)

    /// Writes a publish. OK only means the bytes left; the confirm arrives later as a frame.
    func publish(_ channel: UInt16, _ message: AMQPOutgoingMessage, mandatory: Bool) throws(RabbitMQFailure) {
        let arena = publishArena
        defer { arena.reset() }
        var properties = message.properties.cProperties(in: arena)
        let status = message.body.withUnsafeBytes { body in
            amqp_basic_publish(
                state, channel, arena.bytes(message.exchange), arena.bytes(message.routingKey), mandatory ? 1 : 0, 0,
                &properties, amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
            )
        }
        guard status == AMQP_STATUS_OK.rawValue else { throw .library(status: status) }
    }

    /// Holds back partial TCP segments while set, so a run of publishes leaves in full segments when it is
    /// cleared instead of one push (and one wake-up of the broker) per frame. Best effort: false when the
    /// socket refuses (then nothing needs clearing).
    @discardableResult
    func setCorked(_ corked: Bool) -> Bool {
        var value: Int32 = corked ? 1 : 0
        return setsockopt(socketDescriptor, Int32(IPPROTO_TCP), TCP_CORK, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    /// Acks `deliveryTag`, and with `multiple` every unsettled delivery of the channel up to it.
    func ack(_ channel: UInt16, deliveryTag: UInt64, multiple: Bool = false) throws(RabbitMQFailure) {
        let status = amqp_basic_ack(state, channel, deliveryTag, multiple ? 1 : 0)
        guard status == AMQP_STATUS_OK.rawValue else { throw .library(status: status) }
    }

    func nack(_ channel: UInt16, deliveryTag: UInt64, requeue: Bool) throws(RabbitMQFailure) {
        let status = amqp_basic_nack(state, channel, deliveryTag, 0, requeue ? 1 : 0)
        guard status == AMQP_STATUS_OK.rawValue else { throw .library(status: status) }
    }

    // MARK: Frames

    /// The next frame if one arrives before `timeout` (zero: only what is already readable). Also sends
    /// and checks heartbeats, which librabbitmq does only inside calls like this one.
    func nextEvent(timeout: Duration) throws(RabbitMQFailure) -> RabbitMQEvent? {
        var frame = amqp_frame_t()
        var wait = rabbitMQTimeval(timeout)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &wait)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        guard status == AMQP_STATUS_OK.rawValue else { throw .library(status: status) }
        return try decode(frame)
    }

    private func decode(_ frame: amqp_frame_t) throws(RabbitMQFailure) -> RabbitMQEvent {
        guard frame.frame_type == RabbitMQFrameType.method, let decoded = frame.payload.method.decoded else { return .other }
        let channel = frame.channel
        switch frame.payload.method.id {
        case RabbitMQMethod.basicDeliver:
            let deliver = decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            let info = AMQPDeliveryInfo(
                deliveryTag: deliver.delivery_tag,
                redelivered: deliver.redelivered != 0, exchange: exchanges.string(deliver.exchange), routingKey: routingKeys.string(deliver.routing_key)
            )
            return .deliver(channel: channel, info, try readContent(channel))
        case RabbitMQMethod.basicAck:
            let ack = decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .ack(channel: channel, deliveryTag: ack.delivery_tag, multiple: ack.multiple != 0)
        case RabbitMQMethod.basicNack:
            let nack = decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .nack(channel: channel, deliveryTag: nack.delivery_tag, multiple: nack.multiple != 0)
        case RabbitMQMethod.basicReturn:
            let returned = decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let reason = AMQPReturnInfo(
                replyCode: returned.reply_code, replyText: returned.reply_text.string,
                exchange: returned.exchange.string, routingKey: returned.routing_key.string
            )
            return .returned(channel: channel, reason, try readContent(channel))
        case RabbitMQMethod.basicCancel:
            let cancel = decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            return .consumerCancelled(channel: channel, consumerTag: cancel.consumer_tag.string)
        case RabbitMQMethod.channelClose:
            let close = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            let failure = RabbitMQFailure.channelClosed(channel: channel, code: close.reply_code, text: close.reply_text.string)
            acknowledgeClose(failure)
            return .channelClosed(failure)
        case RabbitMQMethod.connectionClose:
            let close = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let failure = RabbitMQFailure.connectionClosed(code: close.reply_code, text: close.reply_text.string)
            acknowledgeClose(failure)
            throw failure
        default:
            return .other
        }
    }

    private func readContent(_ channel: UInt16) throws(RabbitMQFailure) -> AMQPIncomingContent {
        var message = amqp_message_t()
        let reply = amqp_read_message(state, channel, &message, 0)
        if let failure = RabbitMQFailure(reply: reply, channel: channel) { throw failure }
        defer { amqp_destroy_message(&message) }
        var envelopeHeaders: AMQPEnvelopeHeaders? = AMQPEnvelopeHeaders()
        let properties = AMQPMessageProperties(message.properties, pickingOut: &envelopeHeaders)
        return AMQPIncomingContent(properties: properties, envelopeHeaders: envelopeHeaders ?? AMQPEnvelopeHeaders(), body: message.body.array)
    }

    /// Frees the memory of frames already handled.
    func releaseBuffers() { amqp_maybe_release_buffers(state) }
}
