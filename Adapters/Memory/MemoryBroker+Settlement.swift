import Courier

extension MemoryBroker: DeliverySettler {
    /// Settles a delivery: ack forgets it for the group, requeue puts it back in line (parking it once it
    /// reaches the delivery limit), reject drops it for the group, redeliver brings it back to the group
    /// after a delay on the broker's clock with the given headers merged in.
    ///
    /// Deliveries settle through their member (``settle(tag:_:topic:group:)``, which knows where the tag
    /// belongs); this finds the tag's group first.
    public func settle(tag: UInt64, _ action: SettleAction) async throws {
        let owner = withState { state in
            state.topics.lazy.compactMap { topic in
                topic.value.groups.first { $0.value.inFlight[tag] != nil }.map { (topic: topic.key, group: $0.key) }
            }.first
        }
        guard let owner else { throw alreadySettled(tag) }
        try settle(tag: tag, action, topic: owner.topic, group: owner.group)
    }

    /// Settles a delivery of `group` on `topic`. The group's books say whether the tag is still out: a tag
    /// settled before, or returned when its member left or the broker went down, is not.
    /// Never inlined: in an async caller its locals would each be a task allocation.
    @inline(never)
    func settle(tag: UInt64, _ action: SettleAction, topic topicName: String, group groupName: String) throws(CourierError) {
        let delayed = try withState { state throws(CourierError) -> (topic: String, group: String, offset: Int64, delay: Duration)? in
            guard var topic = state.topics.removeValue(forKey: topicName) else { throw alreadySettled(tag) }
            guard var group = topic.groups.removeValue(forKey: groupName) else {
                state.topics[topicName] = topic
                throw alreadySettled(tag)
            }
            guard let delivery = group.release(tag: tag) else {
                topic.groups[groupName] = group
                state.topics[topicName] = topic
                throw alreadySettled(tag)
            }
            let offset = delivery.offset
            let count = group.deliveryCounts[offset] ?? 1
            let stillInFlight = group.isInFlight(offset)
            var redelivery: (String, String, Int64, Duration)?
            // The message as settled, for the event, taken before its books change. An ack or reject that
            // nobody observes copies none: a copy costs a reference count per field.
            var settled: Envelope?
            switch action {
            case .ack, .reject:
                if state.isObserved { settled = topic.message(at: offset, for: group) }
                if !stillInFlight { group.forget(offset) }
            case .requeue:
                let envelope = topic.message(at: offset, for: group)
                settled = envelope
                if count >= options.maxDeliveries {
                    if !stillInFlight { group.forget(offset) }
                    state.parked[topicName, default: []].append(envelope)
                    state.emit(.parked(envelope, group: groupName, deliveryCount: count))
                } else {
                    group.requeue(offset)
                }
            case .redeliver(let delay, let headers):
                let envelope = topic.message(at: offset, for: group)
                settled = envelope
                var changed = envelope
                changed.headers.merge(headers) { _, new in new }
                group.overrides[offset] = changed
                if delay > .zero {
                    group.delayed.insert(offset)
                    redelivery = (topicName, groupName, offset, delay)
                } else {
                    group.requeue(offset)
                }
            }
            if let settled, state.isObserved {
                state.emit(.settled(settled, group: groupName, action: action, tag: tag))
            }
            // Only this group's room and keys changed, so only it can take more now, and only once a member
            // is down to half its prefetch (see `MemoryGroup.wantsRefill`). Its books stay out of the
            // dictionaries meanwhile: a copy left there would make every write copy them whole.
            if group.wantsRefill { dispatch(group: &group, of: topic, named: topicName, in: &state) }
            topic.putBack(consume group)
            state.topics[topicName] = consume topic
            return redelivery
        }
        if let delayed {
            Task { [clock] in
                try? await clock.sleep(for: delayed.delay)
                self.endDelay(of: delayed.offset, topic: delayed.topic, group: delayed.group)
            }
        }
    }

    private func alreadySettled(_ tag: UInt64) -> CourierError {
        CourierError(
            .invalidSettlement,
            "delivery \(tag) on memory broker \(name) was already settled, or its subscription or the broker went down since; it will be (or was) delivered again"
        )
    }

    /// A redelivery delay ended: the message joins the group's line again.
    private func endDelay(of offset: Int64, topic topicName: String, group groupName: String) {
        withState { state in
            guard var group = state.topics[topicName]?.groups[groupName], group.delayed.remove(offset) != nil else { return }
            group.requeue(offset)
            state.topics[topicName]?.groups[groupName] = group
            redispatch(topic: topicName, in: &state)
        }
    }
}
