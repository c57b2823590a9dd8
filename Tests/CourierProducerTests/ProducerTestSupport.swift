import Courier
import CourierMemory
import Foundation
import Synchronization

/// Two (or more) memory brokers behind one producer, on a virtual clock.
struct ProducerFixture {
    let clock = VirtualClock()
    let brokers: [MemoryBroker]
    let transports: [MemoryTransport]

    init(names: [String] = ["primary", "secondary"], options: MemoryBrokerOptions = MemoryBrokerOptions()) async throws {
        let clock = self.clock
        brokers = names.map { MemoryBroker(name: "\($0)-\(UUID().uuidString.prefix(8))", options: options, clock: clock) }
        transports = zip(names, brokers).map { MemoryTransport(broker: $1, name: $0) }
        for transport in transports { try await transport.start() }
    }

    /// Fast settings: no backoff delay, a breaker that opens after 4 calls at 50 % failures.
    static func configuration(maxAttempts: Int = 3, budgetTokens: Double = 1000) -> ProducerConfiguration {
        ProducerConfiguration(
            retry: RetryPolicy(maxAttempts: maxAttempts, deadline: nil, backoff: Backoff(initial: .zero, maximum: .zero, jitter: .none)),
            retryBudgetTokens: budgetTokens,
            breaker: CircuitBreakerConfiguration(window: .count(10), minimumCalls: 4, openDuration: .seconds(2), permittedCallsInHalfOpen: 2),
            relayInterval: .milliseconds(100)
        )
    }

    func producer(configuration: ProducerConfiguration = ProducerFixture.configuration(), spool: (any Spool)? = nil) -> Producer {
        Producer(transports: transports, configuration: configuration, spool: spool, clock: clock, random: RandomSource(seed: 7))
    }

    func shutdown() async {
        for transport in transports { await transport.shutdown() }
    }
}

/// Collects a producer's events.
final class EventLog: Sendable {
    private let events = Mutex<[ProducerEvent]>([])

    init(_ producer: Producer) {
        producer.onEvent { [weak self] event in self?.events.withLock { $0.append(event) } }
    }

    var all: [ProducerEvent] { events.withLock { $0 } }
}

/// Drains every message of `topic` on `transport` into ids, in delivery order, acking each.
func consumeIDs(_ transport: MemoryTransport, topic: String, count: Int) async throws -> [String] {
    let stream = try await transport.subscribe(Subscription(topic: topic, group: "verify", prefetch: 64))
    var ids: [String] = []
    for try await delivery in stream {
        ids.append(delivery.envelope.id)
        try await delivery.ack()
        if ids.count == count { break }
    }
    await stream.close()
    return ids
}

/// A temporary SQLite file path, removed with its WAL files by `remove()`.
struct TemporarySpoolFile {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("courier-producer-\(UUID().uuidString).sqlite").path

    func remove() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

/// Advances `clock` whenever something sleeps on it, until cancelled: lets relays and backoffs run
/// through virtual time without a test stepping each one.
func autoAdvance(_ clock: VirtualClock) -> Task<Void, Never> {
    Task {
        while !Task.isCancelled {
            await clock.waitForSleepers(1)
            if Task.isCancelled { return }
            clock.advanceToNextDeadline()
            await Task.yield()
        }
    }
}
