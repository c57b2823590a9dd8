import Courier
import Foundation

/// `courier dlq list|show|replay`: inspect and replay dead-letter destinations on the configured transports.
struct DeadLetterCommand: CLICommand {
    let name = "dlq"
    let abstract = "List, show and replay dead letters (list | show ID | replay [--id ID | --all])."
    let discussion: String? = """
        Reads <topic>.dlq (or --dlq-topic) on every configured transport as the group courier-dlq-tool. Listing \
        and showing never remove anything. Replay republishes the chosen dead letters to their original topic \
        on the same transport (attempt and fault headers removed, courier-replayed-at added) and removes each \
        from the dead-letter destination only after the republish was confirmed.
        """
    var options: [OptionSpec] {
        ConfigurationOptions.specs + [
            OptionSpec(name: "topic", valueName: "topic", help: "The topic whose dead letters to read (reads <topic>.dlq)."),
            OptionSpec(name: "dlq-topic", valueName: "topic", help: "The dead-letter topic itself, if not <topic>.dlq."),
            OptionSpec(name: "id", valueName: "id", help: "With replay: the message to replay (repeatable).", repeatable: true),
            OptionSpec(name: "all", valueName: nil, help: "With replay: replay every dead letter."),
            OptionSpec(name: "idle-ms", valueName: "ms", help: "Stop reading after this long without a message (default: 2000)."),
        ]
    }

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        guard let action = arguments.positionals.first else {
            throw UsageError("name an action: 'courier dlq list', 'courier dlq show ID' or 'courier dlq replay'")
        }
        guard let dlqTopic = arguments.value("dlq-topic") ?? arguments.value("topic").map({ "\($0).dlq" }) else {
            throw UsageError("'--topic T' (or '--dlq-topic') is required; it names the dead letters to read")
        }
        let idle = try arguments.int("idle-ms", default: 2000, in: 1...600_000)
        let configuration = try ConfigurationOptions.load(arguments, context: context)
        var started: [any Transport] = []
        for configured in configuration.transports {
            let transport = try context.registry.makeTransport(configured.spec)
            try await transport.start()
            started.append(transport)
        }
        let transports = started
        let queues = transports.map { DeadLetterQueue(transport: $0, topic: dlqTopic, idleTimeout: .milliseconds(idle)) }
        do {
            let status = try await perform(action, on: queues, dlqTopic: dlqTopic, arguments: arguments, context: context)
            for transport in transports { await transport.shutdown() }
            return status
        } catch {
            for transport in transports { await transport.shutdown() }
            throw error
        }
    }

    private func perform(
        _ action: String, on queues: [DeadLetterQueue], dlqTopic: String, arguments: ParsedArguments, context: CLIContext
    ) async throws -> Int32 {
        switch action {
        case "list":
            var total = 0
            for queue in queues {
                for record in try await queue.list() {
                    total += 1
                    context.print([record.envelope.id, record.reason, "attempts=\(record.attempts)", record.failedAt, record.transport].joined(separator: "  "))
                }
            }
            context.print("\(total) dead letter\(total == 1 ? "" : "s") in \(dlqTopic)")
        case "show":
            guard let id = arguments.positionals.dropFirst().first else { throw UsageError("'courier dlq show' needs a message id") }
            for queue in queues {
                if let record = try await queue.list().first(where: { $0.envelope.id == id }) {
                    show(record, context: context)
                    return ExitCode.success
                }
            }
            context.printError("error: no dead letter with id \(id) in \(dlqTopic)")
            return ExitCode.failure
        case "replay":
            let ids = Set(arguments.all("id"))
            guard arguments.flag("all") != !ids.isEmpty else {
                throw UsageError("'courier dlq replay' needs either --id ID (repeatable) or --all")
            }
            var replayed = 0
            for queue in queues {
                let done = try await queue.replay(selecting: { ids.isEmpty || ids.contains($0.envelope.id) }, progress: { count, total in
                    if total >= 100, count % 100 == 0 || count == total { context.standardError.write("\rreplayed \(count)/\(total)") }
                })
                replayed += done.count
            }
            context.print("replayed \(replayed) dead letter\(replayed == 1 ? "" : "s") from \(dlqTopic)")
        default:
            throw UsageError("unknown action '\(action)'; use list, show or replay")
        }
        return ExitCode.success
    }

    private func show(_ record: DeadLetterRecord, context: CLIContext) {
        let envelope = record.envelope
        context.print("id: \(envelope.id)")
        context.print("idempotency key: \(envelope.idempotencyKey)")
        context.print("transport: \(record.transport)")
        for (key, value) in envelope.headers.sorted(by: { $0.key < $1.key }) { context.print("\(key): \(value)") }
        context.print("payload (\(envelope.payload.count) bytes): " + (envelope.text ?? envelope.payload.prefix(64).map { String(format: "%02x", $0) }.joined()))
    }
}
