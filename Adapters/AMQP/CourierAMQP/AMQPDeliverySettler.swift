import Courier

/// Settles deliveries of one subscription by posting to its connection's thread.
struct AMQPDeliverySettler: DeliverySettler {
    let consumerID: Int
    let mailbox: AMQPMailbox

    func settle(tag: UInt64, _ action: SettleAction) async throws {
        try await withCheckedThrowingContinuation { continuation in
            mailbox.post(.settle(consumerID: consumerID, tag: tag, action, continuation))
        }
    }
}
