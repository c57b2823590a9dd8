import Foundation
import Synchronization

/// One message in a dead-letter destination, with its fault headers read out.
public struct DeadLetterRecord: Sendable {
    public let envelope: Envelope
    public let transport: String
    public var reason: String { envelope.headers[CourierHeader.faultReason] ?? "unknown" }
    public var attempts: Int { Int(envelope.headers[CourierHeader.faultAttempts] ?? "") ?? 0 }
    public var failedAt: String { envelope.headers[CourierHeader.faultFailedAt] ?? "" }
    public var errorMessage: String { envelope.headers[CourierHeader.faultMessage] ?? "" }
    /// The topic it failed on, where replays go.
    public var originalTopic: String? { envelope.headers[CourierHeader.faultTopic] }
}

/// Reads and replays a dead-letter destination (such as `orders.dlq`) on one transport.
///
/// Reading holds every message unsettled until it is done and then closes the subscription, so the
/// broker keeps them all: listing never consumes. Replaying republishes the chosen messages to their
/// original topic (attempt and fault headers removed, `courier-replayed-at` added) and acks each only
/// after the republish was confirmed.
public struct DeadLetterQueue: Sendable {
    public let transport: any Transport
    public let topic: String
    /// The group the tool reads as; it must not be one a real consumer uses.
    public let group: String
    /// Reading stops once no message arrived for this long.
    public let idleTimeout: Duration
    public let limit: Int
    private let clock: any CourierClock

    public init(
        transport: any Transport,
        topic: String,
        group: String = "courier-dlq-tool",
        idleTimeout: Duration = .seconds(2),
        limit: Int = 10_000,
        clock: any CourierClock = SystemClock()
    ) {
        self.clock = clock
        self.transport = transport
        self.topic = topic
        self.group = group
        self.idleTimeout = idleTimeout
        self.limit = max(1, limit)
    }

    /// The dead letters, oldest first; none is removed.
    public func list() async throws -> [DeadLetterRecord] {
        try await withHeldDeliveries { deliveries in deliveries.map { DeadLetterRecord(envelope: $0.envelope, transport: transport.name) } }
    }

    /// Republishes the dead letters `selecting` accepts to their original topics; returns their ids.
    /// `progress` is called after each one with (done, total).
    public func replay(
        selecting: @escaping @Sendable (DeadLetterRecord) -> Bool,
        now: @escaping @Sendable () -> Date = Date.init,
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> [String] {
        try await withHeldDeliveries { deliveries in
            let chosen = deliveries.filter { selecting(DeadLetterRecord(envelope: $0.envelope, transport: transport.name)) }
            var replayed: [String] = []
            for delivery in chosen {
                let original = DeadLetterRecord(envelope: delivery.envelope, transport: transport.name)
                guard let originalTopic = original.originalTopic else {
                    throw CourierError(.invalidMessage, "dead letter \(delivery.envelope.id) has no \(CourierHeader.faultTopic) header; it cannot be replayed automatically")
                }
                _ = try await transport.publish(Self.replayCopy(of: delivery.envelope, to: originalTopic, at: now()))
                try await delivery.ack()
                replayed.append(delivery.envelope.id)
                progress(replayed.count, chosen.count)
            }
            return replayed
        }
    }

    /// The message as it goes back: original topic, Courier's attempt and fault headers removed, a
    /// replay marker added; id, idempotency key, payload and other headers unchanged.
    public static func replayCopy(of envelope: Envelope, to topic: String, at date: Date) -> Envelope {
        var copy = envelope
        copy.topic = topic
        copy.headers = copy.headers.filter { key, _ in
            ![CourierHeader.attempt, CourierHeader.failures, CourierHeader.firstFailedAt].contains(key)
                && !key.hasPrefix(CourierHeader.prefix + "fault-")
        }
        copy.headers[CourierHeader.replayedAt] = ISO8601DateFormatter().string(from: date)
        return copy
    }

    /// Collects deliveries until idle (or the limit), runs `body` on them, then closes the subscription so
    /// whatever was not acked stays in the destination.
    private func withHeldDeliveries<Result>(_ body: ([Delivery]) async throws -> Result) async throws -> Result {
        let stream = try await transport.subscribe(Subscription(topic: topic, group: group, prefetch: limit))
        let collected = Mutex<(deliveries: [Delivery], ended: Bool)>(([], false))
        let reader = Task {
            do {
                for try await delivery in stream {
                    let full = collected.withLock { state -> Bool in
                        state.deliveries.append(delivery)
                        return state.deliveries.count >= limit
                    }
                    if full { break }
                }
            } catch {}
            collected.withLock { $0.ended = true }
        }
        var lastCount = -1
        var lastChange = clock.now()
        while true {
            let (count, ended) = collected.withLock { ($0.deliveries.count, $0.ended) }
            if ended || count >= limit { break }
            if count != lastCount {
                lastCount = count
                lastChange = clock.now()
            } else if clock.now() - lastChange >= idleTimeout {
                break
            }
            try await clock.sleep(for: .milliseconds(20))
        }
        let deliveries = collected.withLock { $0.deliveries }
        do {
            let result = try await body(deliveries)
            await stream.close()
            reader.cancel()
            return result
        } catch {
            await stream.close()
            reader.cancel()
            throw error
        }
    }
}
