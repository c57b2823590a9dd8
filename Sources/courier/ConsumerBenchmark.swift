import Courier
import CourierMemory

/// One round of each consumer contender over pre-published messages; returns nanoseconds per message.
struct ConsumerBenchmark {
    let messages: Int
    let payload: [UInt8]
    /// Handlers at once in the pipeline (the consumer's default is 8).
    var concurrency = 8

    /// A started transport whose `bench` topic holds `messages` messages.
    func loadedTransport() async throws -> MemoryTransport {
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

    /// The full pipeline: memory idempotency store, recoverability, handler breaker.
    func pipeline() async throws -> Double {
        try await ConsumerStageBenchmark(messages: messages, payload: payload, concurrency: concurrency).consumer(store: .memory, breaker: true)
    }
}
