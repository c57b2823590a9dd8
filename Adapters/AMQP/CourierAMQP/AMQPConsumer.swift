import Courier

/// A subscription as the connection thread tracks it, across reconnects. A class, so updating its
/// unsettled deliveries never copies them.
final class AMQPConsumer {
    /// A delivery handed out and not settled yet.
    struct Unsettled {
        var channelTag: UInt64
        var content: AMQPIncomingContent
        /// A redelivery copy is being published; settling again must wait for it.
        var isBeingRedelivered = false
    }

    let request: AMQPConsumerRequest
    let channel: UInt16
    /// The queue consumed (the broker names private queues, anew after each reconnect).
    var queue = ""
    var consumerTag = ""
    /// Bumped on every (re)subscription: tags handed out before belong to a lost channel.
    var generation = 0
    var nextTag: UInt64 = 1
    var unsettled: [UInt64: Unsettled] = [:]
    /// Deliveries read in this turn of the connection thread's loop, handed to the stream together.
    var ready: [Delivery] = []
    var readyTags: [UInt64] = []

    /// Where its deliveries come from: the same for every one.
    let source: DeliverySource

    init(request: AMQPConsumerRequest, channel: UInt16, transport: String) {
        self.request = request
        self.channel = channel
        source = DeliverySource(transport: transport, topic: request.subscription.topic, group: request.subscription.group)
    }

    /// The channel tag below which every delivery is settled (`.max` when none is outstanding): acks under
    /// it can be merged into one `multiple` ack.
    func lowestUnsettledChannelTag() -> UInt64 {
        var lowest = UInt64.max
        for entry in unsettled.values where entry.channelTag < lowest { lowest = entry.channelTag }
        return lowest
    }

    var subscription: Subscription { request.subscription }
    var isPrivate: Bool { request.subscription.group == nil }
}
