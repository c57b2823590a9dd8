import Courier

/// Something that happened inside a ``MemoryBroker``, in the order it happened. The
/// ``MemoryTestHarness`` records these; tests can also observe them directly.
public enum MemoryEvent: Sendable {
    /// A message was stored at `offset` of its topic.
    case published(Envelope, offset: Int64)
    /// A message was handed to a member of `group`.
    case delivered(Envelope, group: String, deliveryCount: Int, tag: UInt64)
    /// A delivery was settled.
    case settled(Envelope, group: String, action: SettleAction, tag: UInt64)
    /// A message was requeued more than the delivery limit allows and parked in the broker's dead-letter
    /// list for `group` instead of looping.
    case parked(Envelope, group: String, deliveryCount: Int)
    /// A fault was injected.
    case fault(MemoryFault)
}
