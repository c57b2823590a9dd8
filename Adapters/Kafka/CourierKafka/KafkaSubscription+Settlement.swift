import Courier
import Foundation

extension KafkaSubscription: DeliverySettler {
    /// Settles one delivery.
    ///
    /// ack and reject mark its offset done (Kafka has no per-message reject: a rejected message is simply
    /// not delivered again; dead-lettering is the consumer pipeline's job). requeue and redeliver publish
    /// a copy to the group's retry topic and mark the original done once the copy is confirmed; a
    /// private subscription redelivers in process instead, keeping the offset open until then.
    func settle(tag: UInt64, _ action: SettleAction) async throws {
        let delay: Duration
        let headers: [String: String]
        switch action {
        case .ack, .reject:
            return try finish(tag: tag)
        case .requeue:
            (delay, headers) = (.zero, [:])
        case .redeliver(let after, let extra):
            (delay, headers) = (after, extra)
        }
        guard let retryTopic else { return try redeliverInProcess(tag: tag, after: delay, headers: headers) }
        // What the copy needs, read under the lock; while `settling` nothing else changes the entry.
        let original = try state.withLock { state throws(CourierError) -> (envelope: Envelope, key: KafkaMessageKey, deliveryCount: Int) in
            guard let entry = state.inFlight[tag], !entry.settling else { throw alreadySettled(tag) }
            entry.settling = true
            return (entry.envelope, entry.key, entry.deliveryCount)
        }
        do {
            try await publishRetryCopy(original, to: retryTopic, after: delay, headers: headers)
        } catch {
            state.withLock { $0.inFlight[tag]?.settling = false }
            throw error
        }
        try finish(tag: tag, ignoringSettling: true)
    }

    /// The delivery is done: its offset can be committed once every earlier one is.
    private func finish(tag: UInt64, ignoringSettling: Bool = false) throws(CourierError) {
        let refill = try state.withLock { state throws(CourierError) -> Bool in
            // One lookup: take it out, and put it back in the rare case it may not be finished here.
            guard let entry = state.inFlight.removeValue(forKey: tag) else { throw alreadySettled(tag) }
            guard ignoringSettling || !entry.settling else {
                state.inFlight[tag] = entry
                throw alreadySettled(tag)
            }
            // Not when the partition was revoked since: the next member reads it again.
            if let assignment = entry.assignment, !assignment.revoked, let point = assignment.progress.settle(entry.offset) {
                // The poll thread stores it (batched, and always before it commits).
                if assignment.toStore == nil { state.toStore.append(assignment) }
                assignment.toStore = point
            }
            // Released by the poll thread, which allocated it.
            state.retired.append(entry)
            return shouldRefill(state)
        }
        if refill { handOut() }
    }

    private func redeliverInProcess(tag: UInt64, after delay: Duration, headers: [String: String]) throws(CourierError) {
        try state.withLock { state throws(CourierError) in
            guard let entry = state.inFlight[tag], !entry.settling else { throw alreadySettled(tag) }
            state.inFlight[tag] = nil
            // The delivery handed out keeps its own copy of the envelope.
            entry.deliveryCount += 1
            entry.envelope.headers.merge(headers) { _, new in new }
            if delay > .zero {
                entry.due = clock.wallClockNow().addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
                state.delayed.append(entry)
            } else {
                entry.due = nil
                state.pending.append(entry)
            }
        }
        handOut()
    }

    private func publishRetryCopy(
        _ original: (envelope: Envelope, key: KafkaMessageKey, deliveryCount: Int), to retryTopic: String, after delay: Duration, headers: [String: String]
    ) async throws {
        var envelope = original.envelope
        envelope.headers.merge(headers) { _, new in new }
        let delaySeconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        let due = clock.wallClockNow().addingTimeInterval(delaySeconds)
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

    private func alreadySettled(_ tag: UInt64) -> CourierError {
        CourierError(
            .invalidSettlement,
            "Kafka delivery \(tag) on \(subscription.topic) was already settled, or its subscription closed or its partition moved to another member since; it will be (or was) delivered again",
            transport: transportName
        )
    }
}
