import CRabbitMQ
import Courier

/// Why a librabbitmq call failed, before it is explained to the user as a ``CourierError``.
enum RabbitMQFailure: Error, Sendable {
    /// A library status such as a socket error or a heartbeat timeout: the connection is gone.
    case library(status: Int32)
    /// The broker closed the connection with a reply code and text.
    case connectionClosed(code: UInt16, text: String)
    /// The broker closed one channel; the connection is still usable.
    case channelClosed(channel: UInt16, code: UInt16, text: String)

    /// Whether the whole connection is lost (as opposed to one channel).
    var losesConnection: Bool {
        if case .channelClosed = self { return false }
        return true
    }

    var summary: String {
        switch self {
        case .library(let status):
            if status == AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue {
                return "no heartbeat from the broker for two intervals (broker hung or network cut)"
            }
            return rabbitMQStatusText(status)
        case .connectionClosed(let code, let text): return "broker closed the connection: \(code) \(text)"
        case .channelClosed(_, let code, let text): return "broker closed the channel: \(code) \(text)"
        }
    }

    /// The broker's reply code, when it sent one.
    var replyCode: UInt16? {
        switch self {
        case .library: nil
        case .connectionClosed(let code, _), .channelClosed(_, let code, _): code
        }
    }

    /// Reads the failure out of an RPC reply, or returns nil for a normal reply.
    init?(reply: amqp_rpc_reply_t, channel: UInt16) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return nil
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == RabbitMQMethod.connectionClose, let decoded = reply.reply.decoded {
                let close = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                self = .connectionClosed(code: close.reply_code, text: close.reply_text.string)
            } else if reply.reply.id == RabbitMQMethod.channelClose, let decoded = reply.reply.decoded {
                let close = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                self = .channelClosed(channel: channel, code: close.reply_code, text: close.reply_text.string)
            } else {
                self = .connectionClosed(code: 0, text: "unexpected server method \(reply.reply.id)")
            }
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            self = .library(status: reply.library_error)
        default:
            self = .library(status: AMQP_STATUS_UNEXPECTED_STATE.rawValue)
        }
    }
}
