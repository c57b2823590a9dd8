/// One broker address from the URL's host list.
struct AMQPEndpoint: Sendable, Hashable {
    var host: String
    var port: Int
}

/// TLS material for `amqps://`.
public struct AMQPTLSSettings: Sendable, Hashable {
    /// PEM file of the CA that signed the broker's certificate.
    public var caCertificatePath: String?
    /// PEM client certificate, for brokers that require one.
    public var certificatePath: String?
    /// PEM private key of the client certificate.
    public var keyPath: String?
    /// Verify the broker's certificate and host name. On by default; turn off only for local experiments.
    public var verifyPeer: Bool

    public init(caCertificatePath: String? = nil, certificatePath: String? = nil, keyPath: String? = nil, verifyPeer: Bool = true) {
        self.caCertificatePath = caCertificatePath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.verifyPeer = verifyPeer
    }
}

/// Everything the connection thread needs to connect and reconnect.
struct AMQPConnectionSettings: Sendable {
    var transportName: String
    var endpoints: [AMQPEndpoint]
    var user: String
    var password: String
    var vhost: String
    var tls: AMQPTLSSettings?
    var heartbeatSeconds: Int
    var connectTimeout: Duration
    var rpcTimeout: Duration
    var frameMax: Int32 = 131_072
    var reconnectInitialDelay: Duration
    var reconnectMaxDelay: Duration
}
