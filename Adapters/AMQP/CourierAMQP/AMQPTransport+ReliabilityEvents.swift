import Courier

extension ReliabilityEvent {
    /// The reliability event an AMQP connection event stands for: a loss starts recovery, a failed
    /// reconnect is an attempt, a recovery finishes it. Connecting and closing are not reliability events.
    public init?(_ event: AMQPConnectionEvent, transport: String) {
        switch event {
        case .lost(let reason): self = .recoveryStarted(transport: transport, reason: reason)
        case .reconnectFailed(let attempt, let reason): self = .recoveryAttemptFailed(transport: transport, attempt: attempt, reason: reason)
        case .recovered(_, let attempts, _): self = .recoveryFinished(transport: transport, attempts: attempts)
        case .connected, .closed: return nil
        }
    }
}

extension ReliabilityEvents {
    /// Reports the transport's connection recovery (started, attempts, finished) until it shuts down.
    @discardableResult
    public func attach(_ transport: AMQPTransport) -> Task<Void, Never> {
        let name = transport.name
        return forward(transport.monitor.events()) { ReliabilityEvent($0, transport: name) }
    }
}
