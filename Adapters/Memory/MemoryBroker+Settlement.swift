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
                topic.value.groups.values.first { $0.inFlight[tag] != nil }.map { (topic: topic.key, group: $0) }
            }.first
        }
        guard let owner else { throw alreadySettled(tag) }
        try settle(tag: tag, action, group: owner.group, topic: owner.topic)
    }

    /// Settles a delivery of `group` on `topic`. The group's books say whether the tag is still out: a tag
    /// settled before, or returned when its member left or the broker went down, is not.
    /// Never inlined: in an async caller its locals would each be a task allocation.
    @inline(never)
    func settle(tag: UInt64, _ action: SettleAction, group: MemoryGroup, topic topicName: String) throws(CourierError) {
        let delayed = try withState { state throws(CourierError) -> (offset: Int64, delay: Duration)? in
            // The message as settled, for the event and for a requeue or redelivery, read before the books
            // change. An ack or reject that nobody observes reads none: a copy costs a reference count per
            // field, and looking up the topic a string hash.
            var settled: Envelope?
            if state.isObserved || !action.isFinal {
                guard let offset = group.inFlight[tag]?.offset, let topic = state.topics[topicName] else {
                    throw alreadySettled(tag)
                }
                settled = topic.message(at: offset, for: group)
            }
            guard let (delivery, books) = group.release(tag: tag) else { throw alreadySettled(tag) }
            let offset = delivery.offset
            let count = max(1, books.deliveries)
            let stillInFlight = books.outstanding > 0
            var redelivery: (Int64, Duration)?
            switch (action, settled) {
            case (.ack, _), (.reject, _):
                if !stillInFlight { group.forget(offset) }
            case (.requeue, let envelope?):
                if count >= options.maxDeliveries {
                    if !stillInFlight { group.forget(offset) }
                    state.parked[topicName, default: []].append(envelope)
                    state.emit(.parked(envelope, group: group.name, deliveryCount: count))
                } else {
                    group.requeue(offset)
                }
            case (.redeliver(let delay, let headers), var changed?):
                changed.headers.merge(headers) { _, new in new }
                group.overrides[offset] = changed
                if delay > .zero {
                    group.delayed.insert(offset)
                    redelivery = (offset, delay)
                } else {
                    group.requeue(offset)
                }
            case (.requeue, nil), (.redeliver, nil):
                group.requeue(offset)  // not reached: the message was read above
            }
            if let settled, state.isObserved {
                state.emit(.settled(settled, group: group.name, action: action, tag: tag))
            }
            // Only this group's room and keys changed, so only it can take more now, and only once a member
            // is down to half its prefetch (see `MemoryGroup.wantsRefill`).
            if group.wantsRefill, let topic = state.topics[topicName] {
                dispatch(group: group, of: topic, named: topicName, in: &state)
            }
            return redelivery
        }
        if let delayed {
            Task { [clock] in
                try? await clock.sleep(for: delayed.delay)
                self.endDelay(of: delayed.offset, group: group, topic: topicName)
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
    private func endDelay(of offset: Int64, group: MemoryGroup, topic topicName: String) {
        withState { state in
            guard group.delayed.remove(offset) != nil else { return }
            group.requeue(offset)
            redispatch(topic: topicName, in: &state)
        }
    }
}

extension SettleAction {
    /// Whether the action ends the delivery for the group (ack, reject) rather than bringing it back.
    fileprivate var isFinal: Bool {
        switch self {
        case .ack, .reject: true
        case .requeue, .redeliver: false
        }
    }
}
