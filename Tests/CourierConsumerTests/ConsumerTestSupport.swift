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

    private struct State {
        var value: Value
        var version = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state: Mutex<State>

    init(_ value: Value) { state = Mutex(State(value: value)) }

    var value: Value { state.withLock { $0.value } }

    @discardableResult
    func update<Result>(_ body: (inout Value) -> Result) -> Result {
        let (result, waiters) = state.withLock { state -> (Result, [CheckedContinuation<Void, Never>]) in
            let result = body(&state.value)
            state.version += 1
            defer { state.waiters = [:] }
            return (result, Array(state.waiters.values))
        }
        waiters.forEach { $0.resume() }
        return result
    }

    /// Returns once `condition` holds; throws when nothing changed for `inactivity`.
    func waitUntil(_ description: String, inactivity: Duration = .seconds(5), _ condition: @Sendable (Value) -> Bool) async throws {
        while true {
            let (value, version) = state.withLock { ($0.value, $0.version) }
            if condition(value) { return }
            let changed = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await self.nextChange(after: version) }
                group.addTask {
                    try? await Task.sleep(for: inactivity)
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            if !changed { throw Timeout(description: "timed out waiting until \(description); last value \(self.value)") }
        }
    }

    private func nextChange(after version: Int) async -> Bool {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.version != version || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
        return !Task.isCancelled
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
