/// An exchange or queue to delete through ``AMQPTransport/delete(_:)``.
public enum AMQPTopologyObject: Sendable, Hashable {
    case exchange(String)
    case queue(String)
}
