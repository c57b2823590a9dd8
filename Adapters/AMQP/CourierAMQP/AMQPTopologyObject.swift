/// An exchange or queue to delete through ``AMQPTransport/delete(_:)``.
public enum AMQPTopologyObject: Sendable, Hashable {
    /// An exchange (a topic) by name.
    case exchange(String)
    /// A queue (a group's `T.G`, a retry queue) by name.
    case queue(String)
}
