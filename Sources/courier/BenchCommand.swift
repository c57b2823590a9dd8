import Courier
import Foundation

/// `courier bench`: what the producer and consumer pipelines cost per message, stage by stage, against the
/// bare memory transport; and latency at a fixed rate on any transport.
struct BenchCommand: CLICommand {
    let name = "bench"
    let abstract = "Measure the pipelines' cost per message (stage by stage) and latency at a fixed rate."
    let discussion: String? = """
        Scenario 'producer' (the default): publishes --messages messages one after another on memory \
        transports, from the bare transport up to the full producer pipeline, one stage per row (new \
        envelope, producer with breaker, retry policy and budget, failover router over 2 transports, SQLite \
        spool armed). Scenario 'consumer': consumes --messages pre-published messages from a bare \
        subscription up to the full consumer pipeline (consumer with --concurrency handlers, idempotency \
        check, handler breaker). Each row runs one warm-up round, then --runs measured rounds alternating \
        with the other rows; reported: median, min and max wall ns per message, CPU ns per message \
        (getrusage, all threads), msg/s, and what each stage adds. \
        Scenario 'latency': publishes --messages messages at --rate msg/s through the producer while the \
        consumer pipeline reads them on --transport (default memory://bench), and reports p50 and p99 of the \
        confirmed publish and of end-to-end delivery. Scenario 'observability': the consumer and a \
        one-transport producer pipeline with and without metrics, events and trace propagation. A progress \
        line goes to standard error (--quiet drops it). Build with -c release for meaningful numbers.
        """
    let options: [OptionSpec] = [
        OptionSpec(name: "messages", valueName: "count", help: "Messages per round (default: 100000; latency: 2000)."),
        OptionSpec(name: "runs", valueName: "count", help: "Measured rounds per row after one warm-up (default: 5)."),
        OptionSpec(name: "size", valueName: "bytes", help: "Payload size (default: 100)."),
        OptionSpec(name: "concurrency", valueName: "count", help: "Consumer scenario: handlers at once (default: 8)."),
        OptionSpec(name: "rate", valueName: "msg/s", help: "Latency scenario: publishes per second (default: 1000)."),
        OptionSpec(name: "prefetch", valueName: "count", help: "Latency scenario: the consumer's prefetch (default: 256)."),
        OptionSpec(name: "transport", valueName: "url", help: "Latency scenario: the transport, e.g. amqp://guest:guest@127.0.0.1:5672/?confirm-window=256 (default: memory://bench)."),
        OptionSpec(name: "topic", valueName: "name", help: "Latency scenario: the topic (default: courier-bench-latency)."),
        OptionSpec(name: "confirm-window", valueName: "count", help: "Latency scenario, amqp:// only: publishes awaiting a confirm at once (the URL's confirm-window)."),
        OptionSpec(name: "persistent", valueName: "true|false", help: "Latency scenario, amqp:// only: delivery mode 2 or 1 (the URL's persistent, default true)."),
        OptionSpec(name: "json", valueName: nil, help: "Print the results as one line of JSON."),
        OptionSpec(name: "quiet", valueName: nil, help: "No progress line on standard error."),
    ]

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        let scenario = arguments.positionals.first ?? "producer"
        guard ["producer", "consumer", "latency", "observability"].contains(scenario), arguments.positionals.count <= 1 else {
            throw UsageError(
                "unknown benchmark '\(arguments.positionals.joined(separator: " "))'; the scenarios are: producer, consumer, latency, observability"
            )
        }
        let runs = try arguments.int("runs", default: 5, in: 1...100)
        let size = try arguments.int("size", default: 100, in: 0...(1 << 20))
        let payload = [UInt8](repeating: 0x61, count: size)
        let progress = BenchProgress(sink: context.standardError, isEnabled: !arguments.flag("quiet"))
        let json = arguments.flag("json")

        if scenario == "latency" {
            let messages = try arguments.int("messages", default: 2000, in: 1...10_000_000)
            let url = try Self.transportURL(arguments)
            let transport = try context.registry.makeTransport(url: url)
            let benchmark = LatencyBenchmark(
                transport: transport,
                topic: arguments.value("topic") ?? "courier-bench-latency",
                rate: try arguments.int("rate", default: 1000, in: 1...1_000_000),
                messages: messages, runs: runs, payload: payload,
                prefetch: try arguments.int("prefetch", default: 256, in: 1...65_535),
                progress: progress
            )
            let report = try await benchmark.run(transportDescription: Redaction.scrub(url))
            if json { context.print(report.json()) } else { report.lines().forEach { context.print($0) } }
            return ExitCode.success
        }
        for latencyOnly in ["rate", "prefetch", "transport", "topic", "confirm-window", "persistent"] where arguments.value(latencyOnly) != nil {
            throw UsageError("--\(latencyOnly) applies to the latency scenario only; the \(scenario) scenario runs on memory transports")
        }
        let messages = try arguments.int("messages", default: 100_000, in: 1...10_000_000)
        let concurrency = try arguments.int("concurrency", default: 8, in: 1...1024)
        if scenario == "observability" {
            let bench = MetricsBenchmark(messages: messages, payload: payload, concurrency: concurrency)
            return try await bench.run(runs: runs, json: json, context: context)
        }
        let contenders: [BenchContender]
        if scenario == "producer" {
            contenders = ProducerBenchmark(messages: messages, payload: payload).stages
        } else {
            var reference = ConsumerBenchmark(messages: messages, payload: payload)
            reference.concurrency = concurrency
            contenders = ConsumerStageBenchmark(messages: messages, payload: payload, concurrency: concurrency).stages(reference)
        }
        let report = try await ThroughputReport.measure(
            scenario: scenario, messages: messages, runs: runs, payloadBytes: size, contenders: contenders, progress: progress
        )
        if json { context.print(report.json()) } else { report.lines().forEach { context.print($0) } }
        return ExitCode.success
    }

    /// --transport with --confirm-window and --persistent added as URL options (they are the AMQP adapter's).
    static func transportURL(_ arguments: ParsedArguments) throws -> String {
        var url = arguments.value("transport") ?? "memory://bench"
        var options: [String] = []
        if arguments.value("confirm-window") != nil {
            options.append("confirm-window=\(try arguments.int("confirm-window", default: 256, in: 1...65_535))")
        }
        if let persistent = arguments.value("persistent") {
            guard ["true", "false"].contains(persistent) else {
                throw UsageError("--persistent must be true or false, not '\(persistent)'")
            }
            options.append("persistent=\(persistent)")
        }
        guard !options.isEmpty else { return url }
        guard url.lowercased().hasPrefix("amqp://") || url.lowercased().hasPrefix("amqps://") else {
            throw UsageError("--confirm-window and --persistent apply to amqp:// transports; for others put the transport's own options in the --transport URL")
        }
        url += (url.contains("?") ? "&" : "?") + options.joined(separator: "&")
        return url
    }
}
