import Courier

extension AMQPConnectionWorker {
    /// Acts on one frame from the broker.
    func react(to event: RabbitMQEvent, _ session: RabbitMQSession) throws(RabbitMQFailure) {
        switch event {
        case .deliver(let channel, let info, let content):
            deliver(channel: channel, info, content)
        case .ack(Self.publishChannel, let tag, let multiple):
            confirm(upTo: tag, multiple: multiple, acknowledged: true)
        case .nack(Self.publishChannel, let tag, let multiple):
            confirm(upTo: tag, multiple: multiple, acknowledged: false)
        case .returned(_, let info, let content):
            markReturned(info, messageID: content.properties.messageID)
        case .consumerCancelled(let channel, _):
            try consumerCancelled(channel: channel, session)
        case .channelClosed(let failure):
            if case .channelClosed(let channel, _, _) = failure { try channelClosed(channel, failure, session) }
        case .ack, .nack, .other:
            break
        }
    }

    /// Reopens a channel the broker closed, failing or resubscribing what depended on it.
    func channelClosed(_ channel: UInt16, _ failure: RabbitMQFailure, _ session: RabbitMQSession) throws(RabbitMQFailure) {
        switch channel {
        case Self.publishChannel:
            if inFlight.count == 1, failure.replyCode == AMQPReplyCode.preconditionFailed, failure.summary.contains("max size") {
                // The only unconfirmed message is the one the broker refused.
                failInFlight(CourierError(
                    .messageTooLarge,
                    "the broker refused the message as too large (\(failure.summary)); split the payload or raise the broker's max_message_size",
                    transport: settings.transportName
                ))
            } else {
                failInFlight(.outcomeUnknown(
                    "the broker closed the publishing channel (\(failure.summary)) before confirming the message; it may be stored",
                    transport: settings.transportName
                ))
            }
            try session.openChannel(Self.publishChannel)
            try session.enableConfirms(Self.publishChannel)
            nextPublishSequence = 1
        case Self.topologyChannel:
            try reopenTopologyChannel(session)
        default:
            try consumerChannelClosed(channel, failure, session)
        }
    }
}
