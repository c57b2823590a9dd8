import Courier

/// A failed connection attempt: where it failed and why.
struct AMQPConnectFailure: Error, Sendable {
    enum Stage: Sendable {
        case socket
        case tlsSetup(String)
        case login
    }

    var stage: Stage
    var failure: RabbitMQFailure

    /// The failure as a user-facing error that names the cause and the fix.
    func courierError(address: String, user: String, vhost: String, transport: String) -> CourierError {
        switch stage {
        case .socket:
            return .unavailable("cannot connect to \(address): \(failure.summary); is the broker running and the host and port right?", transport: transport)
        case .tlsSetup(let what):
            return CourierError(.invalidConfiguration, "cannot load the TLS \(what): \(failure.summary)", transport: transport)
        case .login:
            return loginError(address: address, user: user, vhost: vhost, transport: transport)
        }
    }

    private func loginError(address: String, user: String, vhost: String, transport: String) -> CourierError {
        switch failure {
        case .connectionClosed(AMQPReplyCode.accessRefused, let text):
            return CourierError(.authenticationFailed, "\(address) refused the login of user \"\(user)\": wrong user name or password (broker said: \(text))", transport: transport)
        case .connectionClosed(AMQPReplyCode.notAllowed, let text) where text.contains("not found"):
            return CourierError(.invalidConfiguration, "\(address) has no virtual host \"\(vhost)\"; create it (rabbitmqctl add_vhost) or fix the URL path (broker said: \(text))", transport: transport)
        case .connectionClosed(AMQPReplyCode.notAllowed, let text):
            return CourierError(.accessRefused, "user \"\(user)\" may not use virtual host \"\(vhost)\" on \(address); grant it (rabbitmqctl set_permissions) (broker said: \(text))", transport: transport)
        case .connectionClosed(let code, let text):
            return .unavailable("\(address) closed the connection during login: \(code) \(text)", transport: transport)
        case .library, .channelClosed:
            return .unavailable("login to \(address) failed: \(failure.summary); check the port is an AMQP listener, and the user name, password and virtual host", transport: transport)
        }
    }
}

extension CourierError.Code {
    /// The broker refused the user name or password.
    public static let authenticationFailed: CourierError.Code = "authentication-failed"
    /// The user may not use a virtual host or resource.
    public static let accessRefused: CourierError.Code = "access-refused"
}
