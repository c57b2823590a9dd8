import Synchronization

/// What happened to a transport's connection. Read them from ``AMQPConnectionMonitor/events()``.
public enum AMQPConnectionEvent: Sendable, Hashable, CustomStringConvertible {
    /// Connected to `address` (`host:port`).
    case connected(address: String)
    /// The connection was lost; recovery starts.
    case lost(reason: String)
    /// A reconnect attempt failed; another follows after a backoff.
    case reconnectFailed(attempt: Int, reason: String)
    /// Reconnected after `attempts` attempts, with channels, confirms, topology and `consumers`
    /// subscriptions restored.
    case recovered(address: String, attempts: Int, consumers: Int)
    /// The transport shut down.
    case closed

    public var description: String {
        switch self {
        case .connected(let address): "connected to \(address)"
        case .lost(let reason): "connection lost: \(reason)"
        case .reconnectFailed(let attempt, let reason): "reconnect attempt \(attempt) failed: \(reason)"
        case .recovered(let address, let attempts, let consumers): "recovered on \(address) after \(attempts) attempt(s), \(consumers) consumer(s) resubscribed"
        case .closed: "closed"
        }
    }
}

/// Observable connection state of an ``AMQPTransport``: whether it is connected, how often it
/// recovered, and a stream of ``AMQPConnectionEvent``s.
public final class AMQPConnectionMonitor: Sendable {
    private struct State {
        var isConnected = false
        var recoveries = 0
        var losses = 0
        var listeners: [Int: AsyncStream<AMQPConnectionEvent>.Continuation] = [:]
        var nextListener = 0
    }

    private let state = Mutex(State())

    init() {}

    /// Whether the connection is up right now.
    public var isConnected: Bool { state.withLock { $0.isConnected } }
    /// How many times the connection was lost.
    public var lossCount: Int { state.withLock { $0.losses } }
    /// How many times the connection was lost and restored.
    public var recoveryCount: Int { state.withLock { $0.recoveries } }

    /// Events from now on, until the transport shuts down or the caller stops iterating.
    public func events() -> AsyncStream<AMQPConnectionEvent> {
        let (stream, continuation) = AsyncStream<AMQPConnectionEvent>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let id = state.withLock { state -> Int in
            state.nextListener += 1
            state.listeners[state.nextListener] = continuation
            return state.nextListener
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    func record(_ event: AMQPConnectionEvent) {
        let listeners = state.withLock { state -> [AsyncStream<AMQPConnectionEvent>.Continuation] in
            switch event {
            case .connected: state.isConnected = true
            case .lost: state.isConnected = false; state.losses += 1
            case .recovered: state.isConnected = true; state.recoveries += 1
            case .closed: state.isConnected = false
            case .reconnectFailed: break
            }
            return Array(state.listeners.values)
        }
        for listener in listeners {
            listener.yield(event)
            if event == .closed { listener.finish() }
        }
    }
}
