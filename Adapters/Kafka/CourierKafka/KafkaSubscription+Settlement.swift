import Courier
import Foundation

extension KafkaSubscription {
    /// Settles one delivery.
    ///
    /// ack and reject mark its offset done (Kafka has no per-message reject: a rejected message is simply
    /// not delivered again; dead-lettering is the consumer pipeline's job). requeue and redeliver publish
    /// a copy to the group's retry topic and mark the original done once the copy is confirmed; a
    /// private subscription redelivers in process instead, keeping the offset open until then.
    func settle(_ entry: Entry, _ action: SettleAction) async throws {
        let delay: Duration
        let headers: [String: String]
        switch action {
        case .ack, .reject:
            return try finish(entry)
        case .requeue:
            (delay, headers) = (.zero, [:])
        case .redeliver(let after, let extra):
            (delay, headers) = (after, extra)
        }
        guard let retryTopic else { return try redeliverInProcess(entry, after: delay, headers: headers) }
        // While settling, nothing else settles it.
        try state.withLock { state throws(CourierError) in
            guard !state.deliveriesEnded, entry.phase == .inFlight else { throw alreadySettled(entry.tag) }
            entry.phase = .settling
        }
        do {
            try await publishRetryCopy(entry, to: retryTopic, after: delay, headers: headers)
        } catch {
            state.withLock { _ in
                if entry.phase == .settling { entry.phase = .inFlight }
            }
            throw error
        }
        try finish(entry, ignoringSettling: true)
    }

    /// The delivery is done: its offset can be committed once every earlier one is.
    func finish(_ entry: Entry, ignoringSettling: Bool = false) throws(CourierError) {
        let refill = try state.withLock { state throws(CourierError) -> Bool in
            guard !state.deliveriesEnded, entry.phase == .inFlight || (ignoringSettling && entry.phase == .settling) else {
                throw alreadySettled(entry.tag)
            }
            entry.phase = .settled
            state.inFlightCount -= 1
            // Loading the entry's assignment (a class `var`) still retains it once per settlement (uprobe
            // counts); the binding this replaced retained it as well.
            entry.assignment?.settle(entry.offset, toStore: &state.toStore)
            // Released by the poll thread, which allocated it.
            state.retired.append(entry)
            return shouldRefill(state)
        }
        if refill { handOut() }
    }

    /// Queues a copy of the entry (the delivery handed out keeps the original), now or after `delay`.
    private func redeliverInProcess(_ entry: Entry, after delay: Duration, headers: [String: String]) throws(CourierError) {
        let due = delay > .zero ? dueDate(after: delay) : nil
        let copy = entry.redelivery(headers: headers, due: due)
        try state.withLock { state throws(CourierError) in
            guard !state.deliveriesEnded, entry.phase == .inFlight else { throw alreadySettled(entry.tag) }
            entry.phase = .settled
            state.inFlightCount -= 1
            state.retired.append(entry)
            if due != nil {
                state.delayed.append(copy)
            } else {
                state.pending.append(copy)
            }
        }
        handOut()
    }

    private func publishRetryCopy(_ original: Entry, to retryTopic: String, after delay: Duration, headers: [String: String]) async throws {
        var envelope = original.envelope
        envelope.headers.merge(headers) { _, new in new }
        let due = dueDate(after: delay)
        var wire = envelope.wireHeaders
        wire[KafkaRetryTopic.dueHeader] = String(Int64((due.timeIntervalSince1970 * 1000).rounded()))
        wire[KafkaRetryTopic.originalTopicHeader] = envelope.topic
        wire[KafkaRetryTopic.deliveryCountHeader] = String(original.deliveryCount + 1)
        var copy = KafkaOutgoingMessage(
            topic: retryTopic, key: nil, payload: envelope.payload,
            headers: wire.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, messageID: envelope.id
        )
        copy.key = original.key
        _ = try await producer.send([copy])[0].get()
    }

    /// The wall-clock time `delay` from now, on the subscription's clock.
    private func dueDate(after delay: Duration) -> Date {
        clock.wallClockNow().addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
    }

    private func alreadySettled(_ tag: UInt64) -> CourierError {
        CourierError(
            .invalidSettlement,
            "Kafka delivery \(tag) on \(subscription.topic) was already settled, or its subscription closed or its partition moved to another member since; it will be (or was) delivered again",
            transport: transportName
        )
    }
}
