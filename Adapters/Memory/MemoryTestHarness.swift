import Courier
import Synchronization

/// Records what happens on a ``MemoryBroker`` (published, delivered, settled, parked, faults) and lets a
/// test wait for a condition without sleeping.
///
/// ```swift
/// let harness = MemoryTestHarness(broker: transport.broker)
/// // ... run the code under test ...
/// try await harness.waitUntil("3 acks") { $0.settlements(.ack).count == 3 }
/// ```
/// Waits use an inactivity timeout in real time, re-armed by every event: a slow machine does not flake,
/// but a stall fails with a summary of what did happen.
public final class MemoryTestHarness: Sendable {
    public struct DeliveryRecord: Sendable {
        public let envelope: Envelope
        public let group: String
        public let deliveryCount: Int
        public let tag: UInt64
    }

    public struct SettlementRecord: Sendable {
        public let envelope: Envelope
        public let group: String
        public let action: SettleAction
        public let tag: UInt64
    }

    /// Everything recorded so far, in order.
    public struct Record: Sendable {
        public internal(set) var published: [Envelope] = []
        public internal(set) var deliveries: [DeliveryRecord] = []
        public internal(set) var settlements: [SettlementRecord] = []
        public internal(set) var parked: [Envelope] = []
        public internal(set) var faults: [MemoryFault] = []

        /// Settlements with `action`, optionally only for `topic`.
        public func settlements(_ action: SettleAction, topic: String? = nil) -> [SettlementRecord] {
            settlements.filter { $0.action == action && (topic == nil || $0.envelope.topic == topic) }
        }

        /// Settlements that scheduled a delayed redelivery, optionally only for `topic`.
        public func redeliveries(topic: String? = nil) -> [SettlementRecord] {
            settlements.filter {
                guard case .redeliver = $0.action else { return false }
                return topic == nil || $0.envelope.topic == topic
            }
        }

        /// Ids acknowledged at least once, optionally only for `topic`.
        public func ackedIDs(topic: String? = nil) -> Set<String> { Set(settlements(.ack, topic: topic).map(\.envelope.id)) }

        /// One line of counts, for failure messages.
        public var summary: String {
            "published \(published.count), delivered \(deliveries.count), acked \(settlements(.ack).count), "
                + "requeued \(settlements(.requeue).count), redelivered later \(redeliveries().count), rejected \(settlements(.reject).count), parked \(parked.count), faults \(faults.count)"
        }

        mutating func add(_ event: MemoryEvent) {
            switch event {
            case .published(let envelope, _): published.append(envelope)
            case .delivered(let envelope, let group, let count, let tag):
                deliveries.append(DeliveryRecord(envelope: envelope, group: group, deliveryCount: count, tag: tag))
            case .settled(let envelope, let group, let action, let tag):
                settlements.append(SettlementRecord(envelope: envelope, group: group, action: action, tag: tag))
            case .parked(let envelope, _, _): parked.append(envelope)
            case .fault(let fault): faults.append(fault)
            }
        }
    }

    /// A wait that saw no event for its whole inactivity timeout.
    public struct Timeout: Error, CustomStringConvertible {
        public let condition: String
        public let inactivity: Duration
        public let record: Record
        public var description: String {
            "timed out waiting until \(condition): nothing happened for \(inactivity); so far \(record.summary)"
        }
    }

    private let state = Mutex(Record())
    private let changes = ChangeSignal()
    private let token = Mutex<ObservationToken?>(nil)

    /// Starts recording every event of `broker` from now on.
    public init(broker: MemoryBroker) {
        let observation = broker.observe { [weak self] event in self?.record(event) }
        token.withLock { $0 = observation }
    }

    private func record(_ event: MemoryEvent) {
        state.withLock { $0.add(event) }
        changes.bump()
    }

    /// What has been recorded so far.
    public var record: Record { state.withLock { $0 } }

    /// Stops recording.
    public func stop() async { await token.withLock({ $0 })?.cancel() }

    /// Returns the record once `condition` holds; throws ``Timeout`` after `inactivity` with no event.
    @discardableResult
    public func waitUntil(
        _ description: String,
        inactivity: Duration = .seconds(5),
        _ condition: @Sendable (Record) -> Bool
    ) async throws -> Record {
        while true {
            let version = changes.version
            let record = self.record
            if condition(record) { return record }
            try Task.checkCancellation()
            guard await changes.waitForChange(after: version, timeout: inactivity) else {
                throw Timeout(condition: description, inactivity: inactivity, record: self.record)
            }
        }
    }

    /// Waits until `count` messages of `topic` (any topic when `nil`) have been acknowledged.
    @discardableResult
    public func waitForAcks(_ count: Int, topic: String? = nil, inactivity: Duration = .seconds(5)) async throws -> Record {
        try await waitUntil("\(count) acks" + (topic.map { " on \($0)" } ?? ""), inactivity: inactivity) {
            $0.settlements(.ack, topic: topic).count >= count
        }
    }
}
