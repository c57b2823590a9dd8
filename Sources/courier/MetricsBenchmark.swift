import Courier
import CourierMemory
import Foundation
import Synchronization

/// `courier bench observability`: what metrics, events and trace propagation add per message, measured as
/// the same consumer and producer pipelines run with and without an ``Observability``, rounds interleaved.
struct MetricsBenchmark {
    let messages: Int
    let payload: [UInt8]
    var concurrency = 8

    /// The consumer pipeline of `courier bench consumer`, optionally observed; nanoseconds per message.
    func consumer(observed: Bool) async throws -> Double {
        let transport = MemoryTransport(broker: MemoryBroker(name: "observe-consume", options: MemoryBrokerOptions(capacity: messages + 1)))
        try await transport.start()
        // Every message carries a traceparent, so the observed run also extracts and binds the trace context.
        let headers = ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]
        for index in 0..<messages {
            _ = try await transport.publish(Envelope(topic: "bench", payload: payload, id: "m-\(index)", headers: headers))
        }
        let handled = Atomic<Int>(0)
        let finished = Latch()
        let total = messages
        let consumer = try Consumer(
            transports: [transport],
            configuration: ConsumerConfiguration(
                topic: "bench", group: "bench", concurrency: concurrency, prefetch: 256, handlerBreaker: CircuitBreakerConfiguration()
            ),
            idempotencyStore: MemoryIdempotencyStore(capacity: messages + 1),
            observability: observed ? Observability() : nil
        ) { _ in
            if handled.add(1, ordering: .relaxed).newValue == total { finished.open() }
        }
        let elapsed = try await nanosecondsPerMessage(messages) {
            let running = Task { await consumer.run() }
            await finished.wait()
            await consumer.shutdown()
            await running.value
        }
        await transport.shutdown()
        guard consumer.statistics.consumed == messages else {
            throw CourierError(.fatal, "the pipeline consumed \(consumer.statistics.consumed) of \(messages) messages; the benchmark is void")
        }
        return elapsed
    }

    /// A one-transport producer pipeline, optionally observed and publishing inside a trace context.
    func producer(observed: Bool) async throws -> Double {
        let transport = MemoryTransport(broker: MemoryBroker(name: "observe-produce", options: MemoryBrokerOptions(capacity: messages + 1)))
        try await transport.start()
        let producer = Producer(transports: [transport], observability: observed ? Observability() : nil)
        let trace = TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        let elapsed = try await nanosecondsPerMessage(messages) {
            try await TraceContext.$current.withValue(observed ? trace : nil) {
                for index in 0..<messages {
                    _ = try await producer.publish(Envelope(topic: "bench", payload: payload, id: "m-\(index)"))
                }
            }
        }
        await transport.shutdown()
        guard producer.statistics.confirmed == messages else {
            throw CourierError(.fatal, "the pipeline confirmed \(producer.statistics.confirmed) of \(messages) messages; the benchmark is void")
        }
        return elapsed
    }

    /// Warms up once, then runs `runs` interleaved rounds of each contender and prints medians.
    func run(runs: Int, json: Bool, context: CLIContext) async throws -> Int32 {
        var results: [String: [Double]] = [:]
        let contenders: [(String, () async throws -> Double)] = [
            ("consumer pipeline", { try await consumer(observed: false) }),
            ("consumer pipeline + observability", { try await consumer(observed: true) }),
            ("producer pipeline", { try await producer(observed: false) }),
            ("producer pipeline + observability", { try await producer(observed: true) }),
        ]
        for (_, round) in contenders { _ = try await round() }
        for _ in 0..<runs {
            for (name, round) in contenders { results[name, default: []].append(try await round()) }
        }
        if json {
            let medians = results.mapValues { Spread($0).median }
            let object: [String: Any] = ["scenario": "observability", "messages": messages, "runs": runs, "payloadBytes": payload.count,
                                         "nanosecondsPerMessage": results, "medianNanosecondsPerMessage": medians]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            context.print(String(decoding: data, as: UTF8.self))
            return ExitCode.success
        }
        context.print("courier bench observability: \(messages) messages x \(runs) rounds, \(payload.count)-byte payloads, concurrency \(concurrency)")
        for (name, _) in contenders {
            let values = results[name] ?? []
            context.print(name.padding(toLength: 36, withPad: " ", startingAt: 0) + "median \(String(format: "%.0f", Spread(values).median)) ns/msg  (min \(String(format: "%.0f", values.min() ?? 0)), max \(String(format: "%.0f", values.max() ?? 0)))")
        }
        for side in ["consumer", "producer"] {
            let added = Spread(results["\(side) pipeline + observability"] ?? []).median - Spread(results["\(side) pipeline"] ?? []).median
            context.print("added by observability (\(side)): \(String(format: "%.0f", added)) ns/msg")
        }
        return ExitCode.success
    }
}
