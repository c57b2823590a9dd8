import CourierChaos

/// `courier chaos-worker produce|consume`: the producer and consumer processes a chaos scenario starts
/// (and kills). Hidden: `courier chaos` runs them.
struct ChaosWorkerCommand: CLICommand {
    let name = "chaos-worker"
    let abstract = "Internal: a chaos scenario's producer or consumer process (started by `courier chaos`)."
    let isHidden = true
    let options: [OptionSpec] = [
        OptionSpec(name: "dir", valueName: "path", help: "The scenario directory (ledgers, spool)."),
        OptionSpec(name: "transport", valueName: "name=url", help: "A transport, in order of preference (repeatable).", repeatable: true),
        OptionSpec(name: "topic", valueName: "name", help: "The topic."),
        OptionSpec(name: "group", valueName: "name", help: "consume: the consumer group."),
        OptionSpec(name: "count", valueName: "n", help: "produce: messages to publish (0: only drain the spool)."),
        OptionSpec(name: "rate", valueName: "n", help: "produce: messages per second (0: unlimited)."),
        OptionSpec(name: "concurrency", valueName: "n", help: "Publishers, or concurrent handlers."),
        OptionSpec(name: "id-prefix", valueName: "text", help: "produce: message ids are PREFIX-0, PREFIX-1, ..."),
        OptionSpec(name: "prefetch", valueName: "n", help: "consume: unsettled deliveries per subscription."),
        OptionSpec(name: "work-ms", valueName: "n", help: "consume: simulated work per message, in milliseconds."),
    ]

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        guard let role = arguments.positionals.first, ["produce", "consume"].contains(role), arguments.positionals.count == 1 else {
            throw UsageError("say 'produce' or 'consume'; see 'courier chaos-worker --help'")
        }
        guard let directory = arguments.value("dir"), let topic = arguments.value("topic") else {
            throw UsageError("--dir and --topic are required")
        }
        let transports = arguments.all("transport")
        guard !transports.isEmpty else { throw UsageError("give at least one --transport name=url") }
        if role == "produce" {
            let options = ProduceWorker.Options(
                directory: directory, transports: transports, topic: topic,
                count: try arguments.int("count", default: 1_000, in: 0...10_000_000),
                rate: try arguments.int("rate", default: 0, in: 0...1_000_000),
                concurrency: try arguments.int("concurrency", default: 8, in: 1...1_024),
                idPrefix: arguments.value("id-prefix") ?? "m"
            )
            try await ProduceWorker(options: options).run()
        } else {
            let options = ConsumeWorker.Options(
                directory: directory, transports: transports, topic: topic, group: arguments.value("group") ?? "chaos",
                concurrency: try arguments.int("concurrency", default: 8, in: 1...1_024),
                prefetch: try arguments.int("prefetch", default: 64, in: 1...65_535),
                workMilliseconds: try arguments.int("work-ms", default: 0, in: 0...60_000)
            )
            try await ConsumeWorker(options: options).run()
        }
        return ExitCode.success
    }
}
