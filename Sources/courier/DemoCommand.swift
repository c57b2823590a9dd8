import Courier
import CourierMemory
import CourierSQLite
import Foundation

/// `courier demo`: the reliability layer on the memory transport — retries, a breaker opening and
/// failover, every transport down and the SQLite spool, recovery with the spool draining and failback.
struct DemoCommand: CLICommand {
    let name = "demo"
    let abstract = "Show retries, failover, the durable spool and failback on the memory transport; print a summary."
    let discussion: String? = """
        Publishes a stream of messages to memory://primary with memory://secondary as fallback and a SQLite \
        spool in a temporary file. A script fails a publish (retried), takes the primary down (its breaker opens and \
        traffic fails over), takes every transport down (messages are spooled), then restores both (the spool \
        drains in order and traffic fails back). A consumer on both transports deduplicates by idempotency key. \
        Exits 1 if any message is lost or unexpected.
        """
    let options: [OptionSpec] = [
        OptionSpec(name: "messages", valueName: "count", help: "How many messages to publish (default: 200)."),
        OptionSpec(name: "spool", valueName: "path", help: "The SQLite spool file (default: a new temporary file, removed afterwards)."),
        OptionSpec(name: "json", valueName: nil, help: "Print the counts as one JSON object instead of the table."),
    ]

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        if let extra = arguments.positionals.first {
            throw UsageError("unexpected argument '\(extra)'; see 'courier demo --help'")
        }
        let count = try arguments.int("messages", default: 200, in: 20...1_000_000)
        let temporary = arguments.value("spool") == nil
        let spoolPath = arguments.value("spool")
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("courier-demo-\(UUID().uuidString).sqlite").path
        defer {
            if temporary { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: spoolPath + suffix) } }
        }
        let progress = ProgressLine(enabled: !arguments.flag("json") && isatty(STDERR_FILENO) != 0)
        let report = try await DemoScenario(messages: count, spoolPath: spoolPath, registry: context.registry, progress: progress).run()
        if arguments.flag("json") {
            context.print(report.json())
        } else {
            for line in report.table(primary: "memory://primary", secondary: "memory://secondary", spoolPath: spoolPath) { context.print(line) }
        }
        return report.isOK ? ExitCode.success : ExitCode.failure
    }
}

/// A line on standard error rewritten in place while the demo runs (only on a terminal).
struct ProgressLine: Sendable {
    let enabled: Bool

    func update(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
