import Courier

extension MemoryBroker: DeliverySettler {
    /// Settles a delivery: ack forgets it for the group, requeue puts it back in line (parking it once it
    /// reaches the delivery limit), reject drops it for the group.
    public func settle(tag: UInt64, _ action: SettleAction) async throws {
        try withState { state throws(CourierError) in
            guard let (topicName, groupName) = state.tags.removeValue(forKey: tag),
                  var topic = state.topics[topicName],
                  var group = topic.groups[groupName],
                  let delivery = group.release(tag: tag)
            else {
                throw CourierError(
                    .invalidSettlement,
                    "delivery \(tag) on memory broker \(name) was already settled, or its subscription or the broker went down since; it will be (or was) delivered again"
                )
            }
            let envelope = topic.message(at: delivery.offset)
            let count = group.deliveryCounts[delivery.offset] ?? 1
            let stillInFlight = group.inFlight.values.contains { $0.offset == delivery.offset }
            switch action {
            case .ack, .reject:
                if !stillInFlight { group.deliveryCounts[delivery.offset] = nil }
            case .requeue:
                if count >= options.maxDeliveries {
                    if !stillInFlight { group.deliveryCounts[delivery.offset] = nil }
                    state.parked[topicName, default: []].append(envelope)
                    state.emit(.parked(envelope, group: groupName, deliveryCount: count))
                } else {
                    group.requeue(delivery.offset)
                }
            }
            topic.groups[groupName] = group
            state.topics[topicName] = topic
            state.emit(.settled(envelope, group: groupName, action: action, tag: tag))
            redispatch(topic: topicName, in: &state)
        }
    }
}
