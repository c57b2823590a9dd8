import Courier
import CourierMemory
import Synchronization

/// One round of each consumer contender over pre-published messages; returns nanoseconds per message.
struct ConsumerBenchmark {
    let messages: Int
    let payload: [UInt8]
    /// Handlers at once in the pipeline (the consumer's default is 8).
    var concurrency = 8

    /// A started transport whose `bench` topic holds `messages` messages.
    private func loadedTransport() async throws -> MemoryTransport {
        let transport = MemoryTransport(broker: MemoryBroker(name: "consume", options: MemoryBrokerOptions(capacity: messages + 1)))
        try await transport.start()
        for index in 0..<messages {
            _ = try await transport.publish(Envelope(topic: "bench", payload: payload, id: "m-\(index)"))
        }
        return transport
    }

    func bareSubscription() async throws -> Double {
        let transport = try await loadedTransport()
        let elapsed = try await nanosecondsPerMessage(messages) {
            let stream = try await transport.subscribe(Subscription(topic: "bench", group: "bench", prefetch: 256))
            var handled = 0
            for try await delivery in stream {
                try await delivery.ack()
                handled += 1
                if handled == messages { break }
            }
            await stream.close()
        }
        await transport.shutdown()
        return elapsed
    }

    func pipeline() async throws -> Double {
        let transport = try await loadedTransport()
        let handled = Atomic<Int>(0)
        let finished = Latch()
        let total = messages
        let consumer = try Consumer(
            transports: [transport],
            configuration: ConsumerConfiguration(
                topic: "bench", group: "bench", concurrency: concurrency, prefetch: 256,
                handlerBreaker: CircuitBreakerConfiguration()
            ),
            idempotencyStore: MemoryIdempotencyStore(capacity: messages + 1)
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
            throw CourierError(.fatal, "the pipeline consumed \(consumer.statistics.consumed) of \(messages) messages; the benchmark is void")
        }
        await transport.shutdown()
        return elapsed
    }
}
