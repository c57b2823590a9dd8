import Courier
import CourierMemory
import Synchronization

/// A memory transport with one deliberate bug, to prove the suite catches it.
final class BrokenTransport: Transport {
    enum Bug: Sendable {
        /// The `number`-th publish (counted over every instance) is confirmed but never stored.
        case dropsPublish(number: Int)
        /// The `number`-th publish is stored twice.
        case duplicatesPublish(number: Int)
        /// Messages with an ordering key are stored pairwise swapped (the first of a pair is confirmed at
        /// once and stored after the second).
        case reordersPerKey
        /// A nack with requeue acts as an ack: the message never comes back.
        case ignoresNack
    }

    private let inner: MemoryTransport
    private let bug: Bug
    private let shared: BrokenState

    init(_ inner: MemoryTransport, bug: Bug, shared: BrokenState) {
        self.inner = inner
        self.bug = bug
        self.shared = shared
    }

    var name: String { inner.name }
    var capabilities: TransportCapabilities { inner.capabilities }
    func start() async throws { try await inner.start() }
    func shutdown() async { await inner.shutdown() }
    func waitUntilShutdown() async { await inner.waitUntilShutdown() }

    func publish(_ envelope: Envelope) async throws -> PublishConfirmation {
        let number = shared.countPublish()
        switch bug {
        case .dropsPublish(let dropped) where dropped == number:
            return PublishConfirmation(messageID: envelope.id, transport: name, topic: envelope.topic)
        case .duplicatesPublish(let duplicated) where duplicated == number:
            _ = try await inner.publish(envelope)
            return try await inner.publish(envelope)
        case .reordersPerKey:
            guard let key = envelope.orderingKey else { return try await inner.publish(envelope) }
            if let held = shared.takeHeld(key: key) {
                let confirmation = try await inner.publish(envelope)
                _ = try await inner.publish(held)
                return confirmation
            }
            shared.hold(envelope, key: key)
            // A last message of its key with no partner is stored a little later.
            Task { [inner, shared] in
                try? await Task.sleep(for: .milliseconds(500))
                if let held = shared.takeHeld(key: key, id: envelope.id) { _ = try? await inner.publish(held) }
            }
            return PublishConfirmation(messageID: envelope.id, transport: name, topic: envelope.topic)
        case .dropsPublish, .duplicatesPublish, .ignoresNack:
            return try await inner.publish(envelope)
        }
    }

    func subscribe(_ subscription: Subscription) async throws -> DeliveryStream {
        let deliveries = try await inner.subscribe(subscription)
        guard case .ignoresNack = bug else { return deliveries }
        let (stream, continuation) = DeliveryStream.make { await deliveries.close() }
        Task {
            do {
                for try await delivery in deliveries {
                    continuation.yield(Delivery(
                        envelope: delivery.envelope, deliveryCount: delivery.deliveryCount, source: delivery.source,
                        tag: delivery.tag, settler: NackAsAck(delivery: delivery)
                    ))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }
}

/// Settles a requeue as an ack.
private struct NackAsAck: DeliverySettler {
    let delivery: Delivery
    func settle(tag: UInt64, _ action: SettleAction) async throws {
        try await delivery.settle(action == .requeue ? .ack : action)
    }
}

/// What the broken instances of one suite share: the publish count and the held messages.
final class BrokenState: Sendable {
    private let state = Mutex<(publishes: Int, held: [String: Envelope])>((0, [:]))

    func countPublish() -> Int {
        state.withLock { state in
            state.publishes += 1
            return state.publishes
        }
    }

    func hold(_ envelope: Envelope, key: String) { state.withLock { $0.held[key] = envelope } }

    /// The held message of `key` (only if it is `id`, when given), removed.
    func takeHeld(key: String, id: String? = nil) -> Envelope? {
        state.withLock { state in
            guard let held = state.held[key], id == nil || held.id == id else { return nil }
            state.held[key] = nil
            return held
        }
    }
}
