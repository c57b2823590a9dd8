import Courier
import Synchronization

/// An in-process broker: topics with retained logs, consumer groups, per-key order, priorities,
/// ack / requeue / reject with a delivery limit, and scripted faults on a controllable clock.
///
/// Transports made for `memory://NAME` with the same ``MemoryBrokers`` share one broker, so a test can
/// publish through one transport, consume through another, and inject faults into the broker both see.
public final class MemoryBroker: Sendable {
    /// The broker's name (the host part of `memory://NAME`).
    public let name: String
    public let options: MemoryBrokerOptions
    /// The clock confirm delays and scripted faults use.
    public let clock: any CourierClock
    private let state = Mutex(BrokerState())

    public init(name: String, options: MemoryBrokerOptions = MemoryBrokerOptions(), clock: any CourierClock = SystemClock()) {
        self.name = name
        self.options = options
        self.clock = clock
    }

    // MARK: Publishing

    func publish(_ envelope: Envelope, transportName: String) async throws -> PublishConfirmation {
        do {
            try envelope.validate(maxPayloadBytes: options.maxMessageBytes)
        } catch {
            throw error.from(transport: transportName)
        }
        let stored: StoredConfirm
        do {
            stored = try await withCheckedThrowingContinuation { continuation in
                withState { state in
                    do throws(CourierError) {
                        let result = try store(envelope, in: &state)
                        if state.holdConfirms {
                            state.heldConfirms.append((result, continuation))
                        } else {
                            continuation.resume(returning: result)
                        }
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
        } catch let error as CourierError {
            // Held confirms are ended by the broker (on .down), which does not know the transport.
            throw error.from(transport: transportName)
        }
        let delay = state.withLock { $0.confirmDelay }
        if delay > .zero {
            try await clock.sleep(for: delay)
            if state.withLock({ $0.downEpoch }) != stored.downEpoch {
                throw CourierError.outcomeUnknown(
                    "memory broker \(name) went down before confirming message \(envelope.id); it may have been stored",
                    transport: transportName
                )
            }
        }
        return PublishConfirmation(messageID: envelope.id, transport: transportName, topic: envelope.topic, offset: stored.offset)
    }

    /// Applies publish faults, stores the message and dispatches it. Runs under the lock.
    private func store(_ envelope: Envelope, in state: inout BrokerState) throws(CourierError) -> StoredConfirm {
        if state.isDown {
            throw CourierError.unavailable("memory broker \(name) is down; retry later or fail over")
        }
        if state.publishFailures.count > 0 {
            state.publishFailures.count -= 1
            throw injectedPublishFailure(retriable: state.publishFailures.retriable)
        }
        if let probability = state.randomFailureProbability,
           Double.random(in: 0..<1, using: &state.randomFailures) < probability {
            throw injectedPublishFailure(retriable: true)
        }
        // Taken out of the dictionary while it changes, so its message log is not copied on write.
        var topic = state.topics.removeValue(forKey: envelope.topic) ?? MemoryTopic()
        if topic.messages.count >= options.capacity { topic.trim() }
        guard topic.messages.count < options.capacity else {
            state.topics[envelope.topic] = topic
            throw CourierError(
                .backpressure,
                "memory topic \(envelope.topic) holds \(options.capacity) messages not yet settled by every group; consume and settle them, or raise the capacity option",
                isRetriable: true
            )
        }
        let offset = topic.append(envelope)
        state.topics[envelope.topic] = topic
        state.emit(.published(envelope, offset: offset))
        dispatch(topic: envelope.topic, in: &state)
        return StoredConfirm(offset: offset, downEpoch: state.downEpoch)
    }

    private func injectedPublishFailure(retriable: Bool) -> CourierError {
        CourierError(
            .injectedFault,
            "memory broker \(name) failed this publish on purpose (scripted fault)",
            isRetriable: retriable,
            isFatal: !retriable
        )
    }

    // MARK: Subscribing

    func subscribe(_ subscription: Subscription, owner: ObjectIdentifier, transportName: String) throws -> DeliveryStream {
        do {
            try subscription.validate()
        } catch {
            throw error.from(transport: transportName)
        }
        let memberID = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        let groupName = subscription.group ?? "private-\(memberID)-\(Envelope.makeID())"
        // Both hold the broker strongly: a weak reference would move its reference counts to a side table,
        // slower for every retain (one per settlement), and a cache line the cores fight over. The cycle
        // through the member's continuation ends when the member is detached (the stream closed, let go
        // of or ended by the broker).
        let (stream, continuation) = DeliveryStream.make(
            onClose: { [self] in removeMember(memberID, topic: subscription.topic, group: groupName) },
            // Settlements refill in batches; a reader that ran dry gets whatever its prefetch allows now.
            onDemand: { [self] in withState { dispatch(topic: subscription.topic, in: &$0) } }
        )
        try withState { state throws(CourierError) in
            if state.isDown {
                throw CourierError.unavailable("memory broker \(name) is down; subscribe again once it is up", transport: transportName)
            }
            var topic = state.topics.removeValue(forKey: subscription.topic) ?? MemoryTopic()
            let group = topic.groups[groupName]
                ?? MemoryGroup(name: groupName, isPrivate: subscription.group == nil, cursor: topic.baseOffset)
            group.members.append(MemoryMember(
                id: memberID, owner: owner,
                prefetch: subscription.prefetch, continuation: continuation,
                settler: MemberSettler(broker: self, transportName: transportName, topic: subscription.topic, group: group)
            ))
            topic.groups[groupName] = group
            state.topics[subscription.topic] = topic
            dispatch(topic: subscription.topic, in: &state)
        }
        return stream
    }

    private func removeMember(_ memberID: UInt64, topic topicName: String, group groupName: String) {
        withState { state in
            detach(members: { $0.id == memberID }, topic: topicName, group: groupName, ending: nil, in: &state)
            dispatch(topic: topicName, in: &state)
        }
    }

    /// Ends the subscriptions a transport opened; their unsettled deliveries go back to their groups.
    func closeSubscriptions(of owner: ObjectIdentifier) {
        withState { state in
            for (topicName, topic) in state.topics {
                for groupName in topic.groups.keys {
                    detach(members: { $0.owner == owner }, topic: topicName, group: groupName, ending: nil, in: &state)
                }
                dispatch(topic: topicName, in: &state)
            }
        }
    }

    /// Removes matching members, returns their in-flight deliveries and finishes their streams (with
    /// `error` when given). A private group goes with its last member.
    private func detach(
        members predicate: (MemoryMember) -> Bool,
        topic topicName: String,
        group groupName: String,
        ending error: CourierError?,
        in state: inout BrokerState
    ) {
        guard let group = state.topics[topicName]?.groups[groupName] else { return }
        let leaving = group.members.filter(predicate)
        guard !leaving.isEmpty else { return }
        let ids = Set(leaving.map(\.id))
        group.returnInFlight { ids.contains($0.member) }
        group.members.removeAll { ids.contains($0.id) }
        state.topics[topicName]?.dropIfAbandoned(group)
        for member in leaving {
            if let error { member.continuation.finish(throwing: error) } else { member.continuation.finish() }
        }
    }

    // MARK: Dispatch

    /// Hands waiting messages to members with room, until none is eligible. Runs under the lock.
    private func dispatch(topic topicName: String, in state: inout BrokerState) {
        guard !state.isDown, let topic = state.topics[topicName] else { return }
        for group in topic.groups.values {
            dispatch(group: group, of: topic, named: topicName, in: &state)
        }
    }

    /// Hands one group's waiting messages to its members with room, until none is eligible; a private
    /// group whose last member turned out to be gone goes. Runs under the lock.
    func dispatch(group: MemoryGroup, of topic: MemoryTopic, named topicName: String, in state: inout BrokerState) {
        guard !state.isDown else { return }
        var membersLeft = false
        while let memberIndex = group.nextMemberWithRoom(), let offset = topic.takeNext(for: group) {
            let delivered = hand(offset, of: topicName, topic: topic, group: group, member: memberIndex, in: &state)
            if delivered, state.duplicateDeliveries > 0 {
                state.duplicateDeliveries -= 1
                _ = hand(offset, of: topicName, topic: topic, group: group, member: memberIndex, in: &state)
            }
            membersLeft = membersLeft || !delivered
        }
        if membersLeft { state.topics[topicName]?.dropIfAbandoned(group) }
    }

    /// Delivers one offset to one member; returns false (and puts the offset back) if the member's
    /// stream has already ended. A waiting subscriber is woken once the lock is released (see ``withState(_:)``).
    private func hand(
        _ offset: Int64, of topicName: String, topic: MemoryTopic, group: MemoryGroup,
        member memberIndex: Int, in state: inout BrokerState
    ) -> Bool {
        // The member's fields are read in place: a copy of the member retains and releases each of them.
        let memberID = group.members[memberIndex].id
        let envelope = topic.message(at: offset, for: group)
        let count = group.deliveries(of: offset) + 1
        state.nextID += 1
        let tag = state.nextID
        let delivery = Delivery(handle: MemoryDelivery(
            envelope: envelope, deliveryCount: count, tag: tag, offset: offset, member: group.members[memberIndex].settler
        ))
        let (result, wakeUp) = group.members[memberIndex].continuation.yieldWakingLater(delivery)
        if let wakeUp { state.wakeUps.append(wakeUp) }
        if case .terminated = result {
            // The subscriber stopped iterating before its close ran (that runs in a task of its own and
            // will then find no member to detach), so detach it fully here: its unsettled deliveries go
            // back in line too, or they would stay in flight for good and block their ordering keys.
            group.returnInFlight { $0.member == memberID }
            group.requeue(offset)
            group.members.remove(at: memberIndex)
            group.nextMember = 0
            return false
        }
        group.track(tag: tag, InFlightDelivery(offset: offset, member: memberID, key: envelope.orderingKey))
        group.members[memberIndex].inFlight += 1
        group.passTurn(after: memberIndex)
        if state.isObserved {
            state.emit(.delivered(envelope, group: group.name, deliveryCount: count, tag: tag))
        }
        return true
    }

    // MARK: Inspection

    /// Messages that were requeued past ``MemoryBrokerOptions/maxDeliveries`` and parked, per topic.
    public func parkedMessages(topic: String) -> [Envelope] { state.withLock { $0.parked[topic] ?? [] } }

    /// Messages currently retained by `topic`.
    public func retainedCount(topic: String) -> Int { state.withLock { $0.topics[topic]?.messages.count ?? 0 } }

    /// Deliveries of `topic` handed out and not yet settled, over all groups.
    public func unsettledCount(topic: String) -> Int {
        state.withLock { $0.topics[topic]?.groups.values.reduce(0) { $0 + $1.inFlight.count } ?? 0 }
    }

    /// Whether a ``MemoryFault/down`` is in force.
    public var isDown: Bool { state.withLock { $0.isDown } }

    /// Calls `observer` with every event from now on, in order, until the returned token is cancelled.
    /// The observer runs under the broker's lock: it must be quick and must not call the broker.
    public func observe(_ observer: @escaping @Sendable (MemoryEvent) -> Void) -> ObservationToken {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            state.observers[state.nextID] = observer
            return state.nextID
        }
        // Strong (see `subscribe`): the token keeps the broker alive, the broker does not hold the token.
        return ObservationToken { [self] in _ = state.withLock { $0.observers.removeValue(forKey: id) } }
    }

    // MARK: Internals for the fault extension

    /// Runs `body` under the lock, then wakes the subscribers it handed deliveries to: a wake-up schedules
    /// a task (and may wake a thread), too slow to do while other settlements wait for the lock. Always
    /// inlined: a call would take `body`'s captures as a context, a reference count on each.
    @inline(__always)
    func withState<Result, Failure: Error>(
        _ body: (inout sending BrokerState) throws(Failure) -> sending Result
    ) throws(Failure) -> sending Result {
        var wakeUps: [DeliveryStream.WakeUp] = []
        defer { for wakeUp in wakeUps { wakeUp.run() } }
        return try state.withLock { state throws(Failure) -> sending Result in
            defer { swap(&wakeUps, &state.wakeUps) }
            return try body(&state)
        }
    }

    func redispatch(topic: String, in state: inout BrokerState) { dispatch(topic: topic, in: &state) }

    func redispatchAll(in state: inout BrokerState) {
        for topicName in state.topics.keys { dispatch(topic: topicName, in: &state) }
    }

    func dropSubscriptions(topic: String?, in state: inout BrokerState) {
        let error = CourierError(
            .subscriptionLost,
            "memory broker \(name) dropped the subscription (scripted fault); subscribe again",
            isRetriable: true
        )
        for (topicName, memoryTopic) in state.topics where topic == nil || topic == topicName {
            for groupName in memoryTopic.groups.keys {
                detach(members: { _ in true }, topic: topicName, group: groupName, ending: error, in: &state)
            }
        }
    }
}

/// Cancels an observation when told to.
public final class ObservationToken: Sendable {
    private let cancellation: OnceAction

    init(_ cancel: @escaping @Sendable () -> Void) { cancellation = OnceAction { cancel() } }

    /// Stops the observation.
    public func cancel() async { await cancellation.run() }
}

/// What a member's deliveries share: the broker and group they settle with, and what their source names.
/// Each delivery holds this rather than the broker and the names, so the reference count every delivery
/// changes is the member's own, not one that every member and core shares. It holds the broker strongly;
/// the cycle through the broker's books ends when the member is detached (its stream closed or dropped,
/// or the transport shut down). It holds the member's group, so a settlement finds the tag's books
/// without a lookup (see ``MemoryGroup``) and the broker keeps no books of which group each tag belongs to.
final class MemberSettler: Sendable {
    let broker: MemoryBroker
    let transportName: String
    let topic: String
    /// Its books are read and changed only under the broker's lock (its name and kind never change).
    let group: MemoryGroup

    init(broker: MemoryBroker, transportName: String, topic: String, group: MemoryGroup) {
        self.broker = broker
        self.transportName = transportName
        self.topic = topic
        self.group = group
    }

    func settle(tag: UInt64, _ action: SettleAction) throws(CourierError) {
        try broker.settle(tag: tag, action, group: group, topic: topic)
    }
}

/// One delivery from a memory broker. Its source is made when asked: stored per delivery, its strings
/// would be retained and released per message, and the transport's name is one every core shares.
final class MemoryDelivery: DeliveryHandle {
    let envelope: Envelope
    let deliveryCount: Int
    let tag: UInt64
    let offset: Int64
    let member: MemberSettler

    init(envelope: Envelope, deliveryCount: Int, tag: UInt64, offset: Int64, member: MemberSettler) {
        self.envelope = envelope
        self.deliveryCount = deliveryCount
        self.tag = tag
        self.offset = offset
        self.member = member
    }

    var source: DeliverySource {
        DeliverySource(
            transport: member.transportName, topic: member.topic,
            group: member.group.isPrivate ? nil : member.group.name, offset: offset
        )
    }

    func settle(_ action: SettleAction) async throws {
        try member.settle(tag: tag, action)
    }

    /// Every settlement is bookkeeping under the broker's lock: always at once.
    func settleWithoutWaiting(_ action: SettleAction) throws -> Bool {
        try member.settle(tag: tag, action)
        return true
    }
}
