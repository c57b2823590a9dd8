import Courier
import Foundation

extension KafkaSubscription {
    /// A read message, from the poll turn that read it until it is settled: waiting to be handed out,
    /// held, or in flight. It is also what the delivery handed out for it wraps, so a record costs one
    /// object here, not an entry and a delivery, and settling needs no lookup by tag. Its mutable fields
    /// are only touched under the subscription's state lock (so the run-time exclusivity check, which
    /// cost measurable time per message, is left out); the rest never change.
    final class Entry: DeliveryHandle, @unchecked Sendable {
        enum Phase {
            case queued, inFlight, settling, settled
        }

        let location: KafkaPartition
        let offset: Int64
        /// The Kafka key, kept for retry-topic copies.
        let key: KafkaMessageKey
        /// The decoded message, with any headers a redelivery merged in.
        let envelope: Envelope
        let deliveryCount: Int
        /// When a retry-topic copy or an in-process redelivery is due.
        let due: Date?
        /// The poll turn that read it, through which it reaches its subscription.
        let turn: ReadTurn
        /// Set when the poll thread queues it; `nil` (dropped) when its partition was not assigned.
        @exclusivity(unchecked) var assignment: Assignment?
        @exclusivity(unchecked) var phase = Phase.queued
        /// Given when it is handed out, before anybody else sees it.
        @exclusivity(unchecked) var tag: UInt64 = 0

        init(location: KafkaPartition, offset: Int64, envelope: consuming Envelope, key: KafkaMessageKey, deliveryCount: Int?, due: Date?, turn: ReadTurn) {
            self.location = location
            self.offset = offset
            self.envelope = envelope
            self.key = key
            self.deliveryCount = deliveryCount ?? 1
            self.due = due
            self.turn = turn
        }

        /// A copy to deliver again, `headers` merged in, due at `due`; it keeps the original's offset and
        /// assignment, so that offset stays open until the copy is settled.
        func redelivery(headers: [String: String], due: Date?) -> Entry {
            var envelope = envelope
            envelope.headers.merge(headers) { _, new in new }
            let copy = Entry(location: location, offset: offset, envelope: envelope, key: key, deliveryCount: deliveryCount + 1, due: due, turn: turn)
            copy.assignment = assignment
            return copy
        }

        var source: DeliverySource {
            DeliverySource(transport: turn.transport, topic: envelope.topic, group: turn.group, partition: Int(location.partition), offset: offset)
        }

        func settle(_ action: SettleAction) async throws {
            if try settleWithoutWaiting(action) { return }
            try await turn.subscription.settle(self, action)
        }

        /// ack and reject only mark the offset done; requeue and redeliver may publish a retry copy.
        func settleWithoutWaiting(_ action: SettleAction) throws -> Bool {
            switch action {
            case .ack, .reject:
                try turn.subscription.finish(self)
                return true
            case .requeue, .redeliver:
                return false
            }
        }
    }

    /// What the entries of one poll turn share: their subscription and its names. Every entry holds the
    /// strings of its source, and retaining and releasing one shared object for every message, on the
    /// poll thread while reading and on the handler's thread while dropping deliveries, makes the two
    /// cores fight over its reference count. Per turn, the poll thread alone counts its references: it
    /// makes the entries and, through ``releaseRetired(_:)``, usually frees them.
    final class ReadTurn: Sendable {
        let subscription: KafkaSubscription
        let transport: String
        let group: String?

        init(_ subscription: KafkaSubscription) {
            self.subscription = subscription
            transport = Self.ownCopy(of: subscription.transportName)
            group = subscription.subscription.group.map(Self.ownCopy)
        }

        /// `text` in storage of its own; short strings are stored inline anyway.
        private static func ownCopy(of text: String) -> String {
            guard text.utf8.count > 15 else { return text }
            var utf8 = text.utf8.makeIterator()
            return String(unsafeUninitializedCapacity: text.utf8.count) { buffer in
                var count = 0
                while count < buffer.count, let byte = utf8.next() {
                    buffer[count] = byte
                    count += 1
                }
                return count
            }
        }
    }
}
