import Courier
import CourierMemory
import Foundation
import Synchronization
import Testing

/// A started memory transport on a broker of its own, with a harness recording the broker's events.
struct MemoryFixture {
    let broker: MemoryBroker
    let transport: MemoryTransport
    let harness: MemoryTestHarness

    init(
        options: MemoryBrokerOptions = MemoryBrokerOptions(),
        clock: any CourierClock = SystemClock(),
        start: Bool = true
    ) async throws {
        broker = MemoryBroker(name: "tests-\(UUID().uuidString.prefix(8))", options: options, clock: clock)
        transport = MemoryTransport(broker: broker)
        harness = MemoryTestHarness(broker: broker)
        if start { try await transport.start() }
    }

    /// Another started transport on the same broker (a second client process, say).
    func secondTransport(name: String) async throws -> MemoryTransport {
        let other = MemoryTransport(broker: broker, name: name)
        try await other.start()
        return other
    }

    /// Publishes a text message with a readable id and returns the envelope that was sent.
    @discardableResult
    func publish(
        _ id: String, topic: String = "orders", key: String? = nil, priority: UInt8? = nil
    ) async throws -> Envelope {
        let envelope = Envelope.text(id, topic: topic, key: key, priority: priority)
        _ = try await transport.publish(envelope)
        return envelope
    }

    /// Publishes and returns the error it threw, or `nil` when it succeeded.
    func publishError(_ envelope: Envelope) async -> CourierError? {
        do {
            _ = try await transport.publish(envelope)
            return nil
        } catch let error as CourierError {
            return error
        } catch {
            Issue.record("publish threw a non-Courier error: \(error)")
            return nil
        }
    }

    func subscribe(topic: String = "orders", group: String? = "workers", prefetch: Int = 16) async throws -> DeliveryStream {
        try await transport.subscribe(Subscription(topic: topic, group: group, prefetch: prefetch))
    }
}

extension Envelope {
    /// A message whose id and payload are both `id`.
    static func text(_ id: String, topic: String = "orders", key: String? = nil, priority: UInt8? = nil) -> Envelope {
        Envelope(topic: topic, payload: Array(id.utf8), id: id, orderingKey: key, priority: priority)
    }
}

extension DeliveryStream.Iterator {
    /// The next delivery; fails the test if the stream ended instead.
    mutating func take(sourceLocation: SourceLocation = #_sourceLocation) async throws -> Delivery {
        try #require(try await next(), "the delivery stream ended", sourceLocation: sourceLocation)
    }
}

extension MemoryTestHarness.Record {
    /// Ids of the deliveries recorded so far, in delivery order.
    var deliveredIDs: [String] { deliveries.map(\.envelope.id) }
}

/// Every broker event in the order the broker emitted it (the harness keeps kinds apart; this keeps the
/// interleaving, for invariants such as "one delivery per key in flight").
final class EventLog: Sendable {
    private let events = Mutex<[MemoryEvent]>([])
    private let token = Mutex<ObservationToken?>(nil)

    init(broker: MemoryBroker) {
        let observation = broker.observe { [weak self] event in self?.events.withLock { $0.append(event) } }
        token.withLock { $0 = observation }
    }

    var all: [MemoryEvent] { events.withLock { $0 } }
}

/// Runs `body` and returns the ``CourierError`` it threw; records an issue when it threw something else
/// or nothing.
func courierError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> CourierError? {
    do {
        try await body()
        Issue.record("expected a CourierError, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as CourierError {
        return error
    } catch {
        Issue.record("expected a CourierError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A value shared between tasks and observer closures.
final class Locked<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
}

/// A thread-safe flag for "has this happened yet" checks across tasks.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// Drains a stream in a task, acknowledging everything, and returns the ids it acknowledged once the
/// stream ends (normally, or with the error it threw).
func ackingConsumer(_ stream: DeliveryStream) -> Task<(ids: [String], error: (any Error)?), Never> {
    Task {
        var ids: [String] = []
        do {
            for try await delivery in stream {
                ids.append(delivery.envelope.id)
                try await delivery.ack()
            }
            return (ids, nil)
        } catch {
            return (ids, error)
        }
    }
}
