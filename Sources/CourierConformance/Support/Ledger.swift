import Courier
import Foundation
import Synchronization

/// The books of one stream of messages (a topic, or one group of a topic): what was attempted and
/// confirmed on the publishing side, what arrived and was processed on the consuming side.
///
/// "Nothing lost" is read from here: `missing` = confirmed − processed, `extra` = processed − attempted,
/// both sorted; `duplicates` = processings of an id beyond its first.
final class Ledger: Sendable {
    /// One delivery as it arrived, before it was settled.
    struct Arrival: Sendable {
        let id: String
        let member: String
        let orderingKey: String?
        let deliveryCount: Int
    }

    private struct State {
        var attempted: Set<String> = []
        var confirmed: [String] = []
        var confirmedSet: Set<String> = []
        var unknownOutcome: Set<String> = []
        var arrivals: [Arrival] = []
        var processed: [String: Int] = [:]
        var processedBy: [String: Set<String>] = [:]
        var nacked: [String: Int] = [:]
        var envelopes: [String: Envelope] = [:]
        var settleFailures: [String] = []
        /// Confirmed ids not processed yet, kept as a count so waiting for "everything" stays O(1).
        var outstanding = 0

        mutating func confirm(_ id: String) {
            guard confirmedSet.insert(id).inserted else { return }
            confirmed.append(id)
            if processed[id] == nil { outstanding += 1 }
        }
    }

    /// Names this ledger in failure messages (a topic, a group).
    let name: String
    private let keepsEnvelopes: Bool
    private let activity: Activity
    private let identify: @Sendable (Envelope) -> String
    private let state = Mutex(State())

    /// - Parameter identify: the id an arrival is booked under; the envelope's id unless the scenario
    ///   cannot know ids in advance (foreign messages are booked under a marker in their payload).
    init(name: String, keepsEnvelopes: Bool, activity: Activity, identify: @escaping @Sendable (Envelope) -> String = \.id) {
        self.name = name
        self.keepsEnvelopes = keepsEnvelopes
        self.activity = activity
        self.identify = identify
    }

    /// The id `envelope` is booked under.
    func key(for envelope: Envelope) -> String { identify(envelope) }

    // MARK: Publishing side

    func attempted(_ id: String) { state.withLock { _ = $0.attempted.insert(id) } }

    func confirmed(_ id: String) {
        state.withLock { $0.confirm(id) }
        activity.bump()
    }

    /// Expects what `other` published: copies its attempted, confirmed and unknown-outcome ids (a second
    /// group reading the same topic).
    func expectSame(as other: Ledger) {
        let copied = other.state.withLock { ($0.attempted, $0.confirmed, $0.unknownOutcome) }
        state.withLock { state in
            state.attempted.formUnion(copied.0)
            for id in copied.1 { state.confirm(id) }
            state.unknownOutcome.formUnion(copied.2)
        }
    }

    /// The publish may or may not have reached the broker (`mayDuplicate`): an arrival is no stray.
    func outcomeUnknown(_ id: String) { state.withLock { _ = $0.unknownOutcome.insert(id) } }

    // MARK: Consuming side

    func arrived(_ delivery: Delivery, member: String) {
        let envelope = delivery.envelope
        let id = identify(envelope)
        state.withLock { state in
            state.arrivals.append(Arrival(
                id: id, member: member, orderingKey: envelope.orderingKey, deliveryCount: delivery.deliveryCount
            ))
            if keepsEnvelopes, state.envelopes[id] == nil { state.envelopes[id] = envelope }
        }
        activity.bump()
    }

    /// The subscriber processed (acked) the message.
    func processed(_ id: String, member: String) {
        state.withLock { state in
            if state.processed[id] == nil, state.confirmedSet.contains(id) { state.outstanding -= 1 }
            state.processed[id, default: 0] += 1
            state.processedBy[id, default: []].insert(member)
        }
        activity.bump()
    }

    func nacked(_ id: String) {
        state.withLock { $0.nacked[id, default: 0] += 1 }
        activity.bump()
    }

    /// A settle call threw (the message will come again; recorded as a note).
    func settleFailed(_ description: String) { state.withLock { $0.settleFailures.append(description) } }

    // MARK: Reading

    var attemptedCount: Int { state.withLock { $0.attempted.count } }
    var confirmedIDs: [String] { state.withLock { $0.confirmed } }
    var confirmedCount: Int { state.withLock { $0.confirmed.count } }
    var processedCount: Int { state.withLock { $0.processed.count } }
    var arrivals: [Arrival] { state.withLock { $0.arrivals } }
    var arrivalCount: Int { state.withLock { $0.arrivals.count } }
    var settleFailures: [String] { state.withLock { $0.settleFailures } }

    func nackCount(of id: String) -> Int { state.withLock { $0.nacked[id] ?? 0 } }
    func wasProcessed(_ id: String) -> Bool { state.withLock { $0.processed[id] != nil } }
    func envelope(_ id: String) -> Envelope? { state.withLock { $0.envelopes[id] } }
    /// The members that processed `id`.
    func members(of id: String) -> Set<String> { state.withLock { $0.processedBy[id] ?? [] } }
    /// How many distinct messages each member processed.
    var processedPerMember: [String: Int] {
        state.withLock { state in
            state.processedBy.values.reduce(into: [:]) { counts, members in
                for member in members { counts[member, default: 0] += 1 }
            }
        }
    }

    /// Every confirmed id has been processed.
    var hasEverythingConfirmed: Bool {
        state.withLock { $0.outstanding == 0 }
    }

    /// Confirmed but never processed, sorted.
    var missing: [String] {
        state.withLock { state in state.confirmed.filter { state.processed[$0] == nil }.sorted(by: naturalOrder) }
    }

    /// Processed but never attempted here, sorted.
    var extra: [String] {
        state.withLock { state in
            state.processed.keys.filter { !state.attempted.contains($0) && !state.unknownOutcome.contains($0) }.sorted(by: naturalOrder)
        }
    }

    /// Processed although the publish ended with an unknown outcome and was never confirmed (Jepsen's
    /// "recovered").
    var recovered: Int {
        state.withLock { state in
            state.unknownOutcome.filter { state.processed[$0] != nil && !state.confirmedSet.contains($0) }.count
        }
    }

    /// Processings beyond the first of each id.
    var duplicates: Int { state.withLock { $0.processed.values.reduce(0) { $0 + max(0, $1 - 1) } } }

    /// Ids processed more than once, sorted.
    var duplicateIDs: [String] {
        state.withLock { state in state.processed.filter { $0.value > 1 }.map(\.key).sorted(by: naturalOrder) }
    }
}

/// Orders ids so `m-2` comes before `m-10`: runs of digits compare by value.
func naturalOrder(_ lhs: String, _ rhs: String) -> Bool {
    lhs.compare(rhs, options: .numeric) == .orderedAscending
}
