import Courier
import CourierMemory
import CourierSQLite
import Foundation
import Synchronization

/// The consumer ladder between ``ConsumerBenchmark``'s bare subscription and its full pipeline: the consumer
/// with one more stage armed per row; each round returns wall nanoseconds per message.
struct ConsumerStageBenchmark {
    let messages: Int
    let payload: [UInt8]
    let concurrency: Int

    /// Which idempotency store a round arms.
    enum Store { case none, memory, sqlite }

    /// A consumer over a transport holding `messages` messages; `store` arms an idempotency store (the
    /// SQLite one in a temporary file, removed afterwards), `breaker` the handler breaker. Recoverability and the dead-letter route (to the source transport) are
    /// always armed: the consumer has no way to run without them.
    func consumer(store: Store, breaker: Bool) async throws -> Double {
        let transport = try await ConsumerBenchmark(messages: messages, payload: payload).loadedTransport()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("courier-bench-\(Envelope.makeID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let idempotencyStore: (any IdempotencyStore)?
        switch store {
        case .none: idempotencyStore = nil
        case .memory: idempotencyStore = MemoryIdempotencyStore(capacity: messages + 1)
        case .sqlite: idempotencyStore = try await SQLiteIdempotencyStore.open(path: path)
        }
        let handled = Atomic<Int>(0)
        let finished = Latch()
        let total = messages
        let consumer = try Consumer(
            transports: [transport],
            configuration: ConsumerConfiguration(
                topic: "bench", group: "bench", concurrency: concurrency, prefetch: 256,
                handlerBreaker: breaker ? CircuitBreakerConfiguration() : nil
            ),
            idempotencyStore: idempotencyStore
        ) { _ in
            if handled.add(1, ordering: .relaxed).newValue == total { finished.open() }
        }
        let elapsed = try await nanosecondsPerMessage(messages) {
            let running = Task { await consumer.run() }
            await finished.wait()
            await consumer.shutdown()
            await running.value
        }
        guard consumer.statistics.consumed == messages else {
            throw CourierError(.fatal, "the consumer consumed \(consumer.statistics.consumed) of \(messages) messages; the benchmark is void")
        }
        await transport.shutdown()
        if let sqlite = idempotencyStore as? SQLiteIdempotencyStore { await sqlite.close() }
        return elapsed
    }

    /// The ladder `courier bench consumer` reports, ending with ``ConsumerBenchmark``'s full pipeline.
    func stages(_ reference: ConsumerBenchmark) -> [BenchContender] {
        [
            BenchContender(name: "bare subscription, ack each") { try await reference.bareSubscription() },
            BenchContender(name: "+ consumer (slots, recoverability, DLQ armed)") { try await consumer(store: .none, breaker: false) },
            BenchContender(name: "+ idempotency check (memory store)") { try await consumer(store: .memory, breaker: false) },
            BenchContender(name: "+ handler breaker (full pipeline)") { try await reference.pipeline() },
            // Reported beside the ladder, not on it: the durable store's cost per message on its own.
            // At most 10,000 messages a round: each costs a durable commit, and the figure is per message.
            BenchContender(name: "full pipeline, SQLite store instead", besideLadder: true) {
                try await ConsumerStageBenchmark(messages: min(messages, 10_000), payload: payload, concurrency: concurrency)
                    .consumer(store: .sqlite, breaker: true)
            },
        ]
    }
}
