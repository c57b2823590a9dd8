import Courier
import Synchronization

/// The delivery tags of one subscription that are handed out and not settled yet, and the acks accepted
/// but not yet taken by the connection thread. The settler checks it on the caller's side, so an ack
/// returns without a round trip to the connection thread.
final class AMQPUnsettledTags: Sendable {
    private struct State {
        var tags: Set<UInt64> = []
        /// Acked tags the connection thread has not taken yet, oldest first.
        var acked: [UInt64] = []
    }

    private let state = Mutex(State())

    /// Marks a batch handed out; one lock for all of it.
    func insert(contentsOf tags: [UInt64]) { state.withLock { $0.tags.formUnion(tags) } }
    /// Removes `tag`; false when it was settled already or its channel was lost.
    func take(_ tag: UInt64) -> Bool { state.withLock { $0.tags.remove(tag) != nil } }

    /// Removes `tag` and queues its ack. `nil` when it was settled already or its channel was lost;
    /// otherwise whether the connection thread must be woken for the queue: it just reached `wakeAt` acks,
    /// or it was empty and the thread is parked. Otherwise a busy thread takes the queue on its next turn
    /// (every read from the broker, and every couple of milliseconds while deliveries flow).
    ///
    /// Settling the last delivery handed out does not wake the thread by itself (it used to: one pipe
    /// write and one wake-up per batch when the subscriber is faster than the broker). The broker cannot
    /// be starved by the acks left queued: fewer than `wakeAt` (a quarter of the prefetch) are, so it
    /// still has credit for three quarters of the prefetch, and whatever it sends wakes the thread,
    /// which takes the queue before it waits again.
    ///
    /// `isParked` is read under the queue's lock, and the thread sets it before it takes the queue under
    /// the same lock for the last time before parking, so either the thread sees the ack or this sees it
    /// parked.
    func takeForAck(_ tag: UInt64, wakeAt: Int, mailbox: AMQPMailbox) -> Bool? {
        state.withLock { state in
            guard state.tags.remove(tag) != nil else { return nil }
            state.acked.append(tag)
            return state.acked.count == wakeAt
                || (state.acked.count == 1 && mailbox.isParked.load(ordering: .sequentiallyConsistent))
        }
    }

    /// The queued acks, oldest first; the queue is empty afterwards.
    func takeAcks() -> [UInt64] {
        state.withLock { state in
            guard !state.acked.isEmpty else { return [] }
            defer { state.acked.removeAll(keepingCapacity: true) }
            return state.acked
        }
    }

    /// Forgets every tag and queued ack: the channel is gone and the broker redelivers them.
    func removeAll() {
        state.withLock { state in
            state.tags.removeAll()
            state.acked.removeAll()
        }
    }
}

/// Settles deliveries of one subscription by posting to its connection's thread. A class: every
/// `Delivery` holds it as `any DeliverySettler`, and a reference fits the existential's inline buffer, where
/// a struct of four words would cost a heap box per delivery.
final class AMQPDeliverySettler: DeliverySettler {
    let consumerID: Int
    let mailbox: AMQPMailbox
    let unsettled = AMQPUnsettledTags()
    /// How many queued acks wake the connection thread: a quarter of the prefetch, so the broker never
    /// runs out of credit waiting for them, and one wake-up covers many acks.
    let ackWakeThreshold: Int

    init(consumerID: Int, mailbox: AMQPMailbox, prefetch: Int) {
        self.consumerID = consumerID
        self.mailbox = mailbox
        ackWakeThreshold = max(1, prefetch / 4)
    }

    func settle(tag: UInt64, _ action: SettleAction) async throws {
        if case .ack = action {
            // Queued for the connection thread, which writes acks in bulk (with `multiple` where safe).
            guard let wake = unsettled.takeForAck(tag, wakeAt: ackWakeThreshold, mailbox: mailbox) else { throw Self.alreadySettled(tag) }
            if wake { mailbox.post(.acksQueued(consumerID: consumerID)) }
            return
        }
        guard unsettled.take(tag) else { throw Self.alreadySettled(tag) }
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
                unsettled.insert(contentsOf: [tag])
                throw error
            }
        }
    }

    private static func alreadySettled(_ tag: UInt64) -> CourierError {
        CourierError(.invalidSettlement, "delivery \(tag) was already settled, or its channel was lost (the broker will deliver it again)")
    }
}
