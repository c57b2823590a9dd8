import Courier
import Synchronization

/// The delivery tags of one subscription that are handed out and not settled yet. The settler checks it
/// on the caller's side, so an ack returns without a round trip to the connection thread.
final class AMQPUnsettledTags: Sendable {
    private let tags = Mutex<Set<UInt64>>([])

    func insert(_ tag: UInt64) { tags.withLock { _ = $0.insert(tag) } }
    /// Removes `tag`; false when it was settled already or its channel was lost.
    func take(_ tag: UInt64) -> Bool { tags.withLock { $0.remove(tag) != nil } }
    /// Forgets every tag: the channel is gone and the broker redelivers them.
    func removeAll() { tags.withLock { $0.removeAll() } }
}

/// Settles deliveries of one subscription by posting to its connection's thread.
struct AMQPDeliverySettler: DeliverySettler {
    let consumerID: Int
    let mailbox: AMQPMailbox
    let unsettled = AMQPUnsettledTags()

    func settle(tag: UInt64, _ action: SettleAction) async throws {
        guard unsettled.take(tag) else {
            throw CourierError(.invalidSettlement, "delivery \(tag) was already settled, or its channel was lost (the broker will deliver it again)")
        }
        switch action {
        case .ack, .requeue, .reject:
            // Written by the connection thread in order; if the channel is lost first, the broker redelivers.
            mailbox.post(.settleLater(consumerID: consumerID, tag: tag, action))
        case .redeliver:
            do {
                try await withCheckedThrowingContinuation { continuation in
                    mailbox.post(.settle(consumerID: consumerID, tag: tag, action, continuation))
                }
            } catch {
                unsettled.insert(tag)
                throw error
            }
        }
    }
}
