import Courier

/// Everything a ``MemoryBroker`` guards with its lock.
struct BrokerState {
    var topics: [String: MemoryTopic] = [:]
    /// Tags, member ids and observer ids come from one counter.
    var nextID: UInt64 = 0
    var parked: [String: [Envelope]] = [:]
    var observers: [UInt64: @Sendable (MemoryEvent) -> Void] = [:]

    // Faults in force.
    var isDown = false
    /// Bumped on every outage, so a delayed confirm can tell the broker went down meanwhile.
    var downEpoch = 0
    var publishFailures: (count: Int, retriable: Bool) = (0, true)
    var randomFailureProbability: Double?
    var randomFailures = SeededGenerator(seed: 0)
    var holdConfirms = false
    var heldConfirms: [(StoredConfirm, CheckedContinuation<StoredConfirm, any Error>)] = []
    var confirmDelay: Duration = .zero
    var duplicateDeliveries = 0
    /// Subscribers handed deliveries under the lock, to wake once it is released.
    var wakeUps: [DeliveryStream.WakeUp] = []

    /// Whether anyone observes events: building one copies its envelope, not worth doing for nobody.
    var isObserved: Bool { !observers.isEmpty }

    func emit(_ event: MemoryEvent) {
        for observer in observers.values { observer(event) }
    }
}

/// Where a publish was stored, and during which up-period, until its confirm is released.
struct StoredConfirm: Sendable {
    let offset: Int64
    let downEpoch: Int
}
