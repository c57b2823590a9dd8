import Courier
import CourierMemory
import Foundation
import Synchronization

/// One memory broker and transport on a virtual clock, with a harness recording the broker's events.
struct ConsumerFixture {
    let clock: VirtualClock
    let broker: MemoryBroker
    let transport: MemoryTransport
    let harness: MemoryTestHarness

    init(clock: VirtualClock = VirtualClock(), transportName: String = "memory", options: MemoryBrokerOptions = MemoryBrokerOptions()) async throws {
        self.clock = clock
        broker = MemoryBroker(name: "consumer-\(Envelope.makeID())", options: options, clock: clock)
        transport = MemoryTransport(broker: broker, name: transportName)
        try await transport.start()
        harness = MemoryTestHarness(broker: broker)
    }

    func publish(_ id: String, topic: String = "jobs", key: String? = nil, headers: [String: String] = [:]) async throws {
        _ = try await transport.publish(Envelope(topic: topic, payload: Array(id.utf8), id: id, orderingKey: key, headers: headers))
    }

    /// Deliveries of message `id` recorded so far.
    func deliveries(of id: String) -> [MemoryTestHarness.DeliveryRecord] {
        harness.record.deliveries.filter { $0.envelope.id == id }
    }

    /// Messages published to `topic` so far.
    func published(on topic: String) -> [Envelope] {
        harness.record.published.filter { $0.topic == topic }
    }
}

/// A consumer running in a task of its own.
struct RunningConsumer {
    let consumer: Consumer
    let task: Task<Void, Never>

    init(_ consumer: Consumer) {
        self.consumer = consumer
        task = Task { await consumer.run() }
    }

    /// Shuts the consumer down and waits for ``Consumer/run()`` to return.
    func stop() async {
        await consumer.shutdown()
        await task.value
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String = "downstream failed") { self.description = description }
}

struct PoisonError: UnrecoverableError, CustomStringConvertible {
    var description: String { "poison pill" }
}

/// A value many tasks update, that a test can wait on (woken by every change, with a real-time
/// inactivity timeout as a safety net only).
final class Probe<Value: Sendable>: Sendable {
    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    private let state: Mutex<Value>
    private let changes = ChangeSignal()

    init(_ value: Value) { state = Mutex(value) }

    var value: Value { state.withLock { $0 } }

    @discardableResult
    func update<Result>(_ body: (inout Value) -> Result) -> Result {
        let result = state.withLock { body(&$0) }
        changes.bump()
        return result
    }

    /// Returns once `condition` holds; throws when nothing changed for `inactivity`.
    func waitUntil(_ description: String, inactivity: Duration = .seconds(5), _ condition: @Sendable (Value) -> Bool) async throws {
        while true {
            let version = changes.version
            let value = self.value
            if condition(value) { return }
            let changed = await changes.waitForChange(after: version, timeout: inactivity)
            if !changed { throw Timeout(description: "timed out waiting until \(description); last value \(self.value)") }
        }
    }
}

extension Probe where Value == [String] {
    func append(_ item: String) { update { $0.append(item) } }
    func count(of item: String) -> Int { value.filter { $0 == item }.count }
}

extension Probe where Value == [ConsumerEvent] {
    /// Records every event of `consumer`.
    static func events(of consumer: Consumer) -> Probe<[ConsumerEvent]> {
        let probe = Probe<[ConsumerEvent]>([])
        consumer.onEvent { event in probe.update { $0.append(event) } }
        return probe
    }
}

extension VirtualClock {
    /// Moves time forward `total` in `step`s, each once somebody sleeps on the clock (for code that
    /// polls on it, such as a consumer waiting for its breaker).
    func advance(by total: Duration, inStepsOf step: Duration) async {
        var moved = Duration.zero
        while moved < total {
            await waitForSleepers()
            advance(by: step)
            moved += step
        }
    }
}
