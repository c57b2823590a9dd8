import Courier
import Synchronization

/// The demo's consumer: one member per transport of the failover set, deduplicating by idempotency key
/// (so failover and injected duplicates have one effect), and failing one message once to show a requeue.
final class DemoConsumer: Sendable {
    struct Outcome: Sendable {
        var handled: Set<String> = []
        var duplicatesDropped = 0
        var requeued = 0
        var staleSettlements = 0
        var failedOnce = false
    }

    private let failingID: String
    private let state = Mutex(Outcome())

    init(failingOnce id: String) { failingID = id }

    var outcome: Outcome { state.withLock { $0 } }

    func consume(_ deliveries: DeliveryStream) async throws {
        for try await delivery in deliveries {
            let envelope = delivery.envelope
            let action = state.withLock { state -> SettleAction in
                if envelope.id == failingID, !state.failedOnce {
                    state.failedOnce = true
                    state.requeued += 1
                    return .requeue
                }
                if !state.handled.insert(envelope.idempotencyKey).inserted { state.duplicatesDropped += 1 }
                return .ack
            }
            do {
                try await delivery.settle(action)
            } catch let error as CourierError where error.code == .invalidSettlement {
                // The broker went down while this delivery was in flight; it comes again and is deduplicated.
                state.withLock { $0.staleSettlements += 1 }
            }
        }
    }

    /// Waits until every key in `expected` was handled, or nothing new was handled for `inactivity`.
    func waitForAll(_ expected: Set<String>, clock: any CourierClock, inactivity: Duration) async -> Bool {
        var lastCount = -1
        var lastProgress = clock.now()
        while true {
            let handled = state.withLock { $0.handled }
            if expected.isSubset(of: handled) { return true }
            if handled.count != lastCount {
                lastCount = handled.count
                lastProgress = clock.now()
            } else if clock.now() - lastProgress > inactivity {
                return false
            }
            try? await clock.sleep(for: .milliseconds(5))
        }
    }
}
