import CRabbitMQ
import Courier

/// Applies ``AMQPTLSSettings`` to a librabbitmq SSL socket.
enum RabbitMQTLS {
    static func configure(_ socket: OpaquePointer, _ tls: AMQPTLSSettings) throws(AMQPConnectFailure) {
        if let caCertificate = tls.caCertificatePath {
            let status = amqp_ssl_socket_set_cacert(socket, caCertificate)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPConnectFailure(stage: .tlsSetup("CA certificate \(caCertificate)"), failure: .library(status: status))
            }
        }
        if let certificate = tls.certificatePath, let key = tls.keyPath {
            let status = amqp_ssl_socket_set_key(socket, certificate, key)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPConnectFailure(stage: .tlsSetup("client certificate \(certificate) / key \(key)"), failure: .library(status: status))
            }
        }
        amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
        amqp_ssl_socket_set_verify_hostname(socket, tls.verifyPeer ? 1 : 0)
    }
}
