import Courier
import CourierMemory
import CourierSQLite
import Foundation

/// `courier bench producer`: the producer pipeline's cost per message against the bare memory transport,
/// measured in the same run.
struct BenchCommand: CLICommand {
    let name = "bench"
    let abstract = "Measure what the producer or consumer pipeline costs per message against the bare memory transport."
    let discussion: String? = """
        Scenario 'producer' (the default): publishes --messages messages one after another through (a) the \
        bare memory transport and (b) the full producer pipeline (two memory transports in failover order, \
        breakers closed, retry policy and budget, SQLite spool armed but unused). Scenario 'consumer': consumes \
        --messages pre-published messages through (a) a bare subscription that acks each and (b) the full \
        consumer pipeline (memory idempotency store, recoverability policy, handler breaker, --concurrency handlers, default 8). \
        Scenario 'observability': the consumer and a one-transport producer pipeline with and without metrics, \
        events and trace propagation. \
        Contenders alternate after one warm-up round each. Reports the median, min and max nanoseconds per \
        message over --runs rounds, and the difference. Build with -c release for meaningful numbers.
        """
    let options: [OptionSpec] = [
        OptionSpec(name: "messages", valueName: "count", help: "Messages per round (default: 100000)."),
        OptionSpec(name: "runs", valueName: "count", help: "Measured rounds per contender (default: 5)."),
        OptionSpec(name: "size", valueName: "bytes", help: "Payload size (default: 100)."),
        OptionSpec(name: "concurrency", valueName: "count", help: "Consumer scenario: handlers at once (default: 8)."),
        OptionSpec(name: "json", valueName: nil, help: "Print the results as JSON."),
    ]

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        let scenario = arguments.positionals.first ?? "producer"
        guard ["producer", "consumer", "observability"].contains(scenario), arguments.positionals.count <= 1 else {
            throw UsageError("unknown benchmark '\(arguments.positionals.joined(separator: " "))'; the scenarios are: producer, consumer, observability")
        }
        let messages = try arguments.int("messages", default: 100_000, in: 1...10_000_000)
        let runs = try arguments.int("runs", default: 5, in: 1...100)
        let size = try arguments.int("size", default: 100, in: 0...(1 << 20))
        let payload = [UInt8](repeating: 0x61, count: size)
        let producerBench = ProducerBenchmark(messages: messages, payload: payload)
        var consumerBench = ConsumerBenchmark(messages: messages, payload: payload)
        consumerBench.concurrency = try arguments.int("concurrency", default: 8, in: 1...1024)
        if scenario == "observability" {
            let bench = MetricsBenchmark(messages: messages, payload: payload, concurrency: consumerBench.concurrency)
            return try await bench.run(runs: runs, json: arguments.flag("json"), context: context)
        }
        let bareRound = { scenario == "producer" ? try await producerBench.bareTransport() : try await consumerBench.bareSubscription() }
        let pipelineRound = { scenario == "producer" ? try await producerBench.pipeline() : try await consumerBench.pipeline() }

        _ = try await bareRound()
        _ = try await pipelineRound()
        var bare: [Double] = []
        var pipeline: [Double] = []
        for _ in 0..<runs {
            bare.append(try await bareRound())
            pipeline.append(try await pipelineRound())
        }
        let result = BenchResult(scenario: scenario, messages: messages, runs: runs, payloadBytes: size, bare: bare, pipeline: pipeline)
        if arguments.flag("json") {
            context.print(result.json())
        } else {
            result.lines().forEach { context.print($0) }
        }
        return ExitCode.success
    }
}

/// One round of each contender; returns nanoseconds per message.
struct ProducerBenchmark {
    let messages: Int
    let payload: [UInt8]

    private func broker(_ name: String) -> MemoryBroker {
        MemoryBroker(name: name, options: MemoryBrokerOptions(capacity: messages + 1))
    }

    func bareTransport() async throws -> Double {
        let transport = MemoryTransport(broker: broker("bare"))
        try await transport.start()
        let elapsed = try await nanosecondsPerMessage(messages) {
            for index in 0..<messages {
                _ = try await transport.publish(Envelope(topic: "bench", payload: payload, id: "m-\(index)"))
            }
        }
        await transport.shutdown()
        return elapsed
    }

    func pipeline() async throws -> Double {
        let primary = MemoryTransport(broker: broker("primary"), name: "primary")
        let secondary = MemoryTransport(broker: broker("secondary"), name: "secondary")
        for transport in [primary, secondary] { try await transport.start() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("courier-bench-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let spool = try await SQLiteSpool.open(path: path)
        let producer = Producer(transports: [primary, secondary], spool: spool)
        let elapsed = try await nanosecondsPerMessage(messages) {
            for index in 0..<messages {
                _ = try await producer.publish(Envelope(topic: "bench", payload: payload, id: "m-\(index)"))
            }
        }
        guard producer.statistics.confirmed == messages else {
            throw CourierError(.fatal, "the pipeline confirmed \(producer.statistics.confirmed) of \(messages) messages; the benchmark is void")
        }
        await spool.close()
        for transport in [primary, secondary] { await transport.shutdown() }
        return elapsed
    }

}

/// Runs `body` and returns the wall time it took per message, in nanoseconds.
func nanosecondsPerMessage(_ messages: Int, _ body: () async throws -> Void) async throws -> Double {
    let clock = ContinuousClock()
    let started = clock.now
    try await body()
    return (clock.now - started).seconds * 1e9 / Double(max(1, messages))
}

/// Medians and the method, printed as a table or JSON.
struct BenchResult: Codable {
    let scenario: String
    let messages: Int
    let runs: Int
    let payloadBytes: Int
    let bare: [Double]
    let pipeline: [Double]

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    var bareMedian: Double { Self.median(bare) }
    var pipelineMedian: Double { Self.median(pipeline) }

    func lines() -> [String] {
        func format(_ value: Double) -> String { String(format: "%.0f", value) }
        func row(_ name: String, _ values: [Double]) -> String {
            name.padding(toLength: 34, withPad: " ", startingAt: 0)
                + "median \(format(Self.median(values))) ns/msg  (min \(format(values.min() ?? 0)), max \(format(values.max() ?? 0)))"
        }
        return [
            "courier bench \(scenario): \(messages) messages x \(runs) rounds, \(payloadBytes)-byte payloads",
            row(scenario == "producer" ? "bare memory transport" : "bare subscription (ack each)", bare),
            row(scenario == "producer" ? "producer pipeline (2 transports)" : "consumer pipeline", pipeline),
            "added by the pipeline: \(format(pipelineMedian - bareMedian)) ns/msg (ratio \(String(format: "%.2f", pipelineMedian / max(bareMedian, 1))))",
        ]
    }

    func json() -> String {
        struct Output: Codable {
            let result: BenchResult
            let bareMedianNanoseconds: Double
            let pipelineMedianNanoseconds: Double
            let addedNanoseconds: Double
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let output = Output(result: self, bareMedianNanoseconds: bareMedian, pipelineMedianNanoseconds: pipelineMedian, addedNanoseconds: pipelineMedian - bareMedian)
        return (try? encoder.encode(output)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
