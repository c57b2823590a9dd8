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
        let entry = try state.withLock { state throws(CourierError) -> InFlight in
            guard var entry = state.inFlight[tag], !entry.settling else { throw alreadySettled(tag) }
            entry.settling = true
            state.inFlight[tag] = entry
            return entry
        }
        do {
            try await publishRetryCopy(entry, to: retryTopic, after: delay, headers: headers)
        } catch {
            state.withLock { $0.inFlight[tag]?.settling = false }
            throw error
        }
        try finish(tag: tag, ignoringSettling: true)
    }

    /// The delivery is done: its offset can be committed once every earlier one is.
    private func finish(tag: UInt64, ignoringSettling: Bool = false) throws(CourierError) {
        try state.withLock { state throws(CourierError) in
            // One lookup: take it out, and put it back in the rare case it may not be finished here.
            guard let entry = state.inFlight.removeValue(forKey: tag) else { throw alreadySettled(tag) }
            guard ignoringSettling || !entry.settling else {
                state.inFlight[tag] = entry
                throw alreadySettled(tag)
            }
            let location = entry.queued.location
            if state.epochs[location] == entry.queued.epoch,
               let point = state.progress[location]?.settle(entry.queued.offset) {
                // The poll thread stores it (batched, and always before it commits).
                state.toStore[location] = point
            }
            if shouldRefill(state) { pump(&state) }
        }
    }

    private func redeliverInProcess(tag: UInt64, after delay: Duration, headers: [String: String]) throws(CourierError) {
        try state.withLock { state throws(CourierError) in
            guard let entry = state.inFlight[tag], !entry.settling else { throw alreadySettled(tag) }
            state.inFlight[tag] = nil
            var queued = entry.queued
            queued.deliveryCount += 1
            queued.envelope.headers.merge(headers) { _, new in new }
            if delay > .zero {
                queued.due = clock.wallClockNow().addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
                state.delayed.append(queued)
            } else {
                queued.due = nil
                state.pending.append(queued)
            }
            pump(&state)
        }
    }

    private func publishRetryCopy(_ entry: InFlight, to retryTopic: String, after delay: Duration, headers: [String: String]) async throws {
        var envelope = entry.queued.envelope
        envelope.headers.merge(headers) { _, new in new }
        let delaySeconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        let due = clock.wallClockNow().addingTimeInterval(delaySeconds)
        var wire = envelope.wireHeaders
        wire[KafkaRetryTopic.dueHeader] = String(Int64((due.timeIntervalSince1970 * 1000).rounded()))
        wire[KafkaRetryTopic.originalTopicHeader] = envelope.topic
        wire[KafkaRetryTopic.deliveryCountHeader] = String(entry.queued.deliveryCount + 1)
        var copy = KafkaOutgoingMessage(
            topic: retryTopic, key: nil, payload: envelope.payload,
            headers: wire.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, messageID: envelope.id
        )
        copy.key = entry.queued.key
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
