import CourierChaos
import Foundation

/// `courier chaos`: runs the chaos scenarios with real processes and brokers, counts every message and
/// writes RELIABILITY.md.
struct ChaosCommand: CLICommand {
    let name = "chaos"
    let abstract = "Run the chaos scenarios (real brokers, processes killed) and write the reliability report."
    let discussion: String? = """
        Scenarios: 1 RabbitMQ SIGKILL + restart, 2 RabbitMQ SIGSTOP, 3 Kafka mock faults, 4 failover Kafka → \
        RabbitMQ and back, 5 every transport down + producer SIGKILL with a full spool, 6 consumer SIGKILL mid-batch. \
        Uses a private RabbitMQ node on --rabbitmq-port (via .ci/rabbitmq, stopped at the end) and `courier \
        kafka-mock` clusters. Exits 1 unless every scenario passes (lost = 0, unexpected = 0, effects exactly once).
        """
    let options: [OptionSpec] = [
        OptionSpec(name: "scenario", valueName: "n", help: "Run only scenario N (repeatable; default: all).", repeatable: true),
        OptionSpec(name: "short", valueName: nil, help: "The short version (as in `make test`)."),
        OptionSpec(name: "report", valueName: "path", help: "Write the Markdown report here (for example RELIABILITY.md)."),
        OptionSpec(name: "root", valueName: "path", help: "The repository checkout, for .ci/rabbitmq (default: the current directory)."),
        OptionSpec(name: "work-dir", valueName: "path", help: "Where scenario ledgers and logs go (default: ROOT/.courier/chaos)."),
        OptionSpec(name: "rabbitmq-port", valueName: "port", help: "The private RabbitMQ node's port (default: 5673)."),
        OptionSpec(name: "machine-note", valueName: "text", help: "What else ran on the machine, for the report."),
    ]

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        let numbers = try arguments.all("scenario").map { text throws(UsageError) -> Int in
            guard let number = Int(text), ChaosDriver.scenarioNumbers.contains(number) else {
                throw UsageError("'--scenario \(text)' must be one of \(ChaosDriver.scenarioNumbers.map(String.init).joined(separator: ", "))")
            }
            return number
        }
        let root = arguments.value("root") ?? FileManager.default.currentDirectoryPath
        let workDirectory = arguments.value("work-dir") ?? root + "/.courier/chaos"
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let environment = ChaosEnvironment(
            executable: Self.ownExecutable(), repositoryRoot: root, workDirectory: workDirectory,
            rabbitMQPort: try arguments.int("rabbitmq-port", default: 5673, in: 1...65_535)
        )
        let size: ChaosSize = arguments.flag("short") ? .short : .full
        let driver = ChaosDriver(environment: environment)
        var results: [ScenarioResult] = []
        for number in numbers.isEmpty ? ChaosDriver.scenarioNumbers : numbers {
            context.print("scenario \(number) (\(size.rawValue)): running")
            let result = await driver.run(scenario: number, size: size)
            results.append(result)
            context.print(Self.summary(result))
        }
        await driver.stopRabbitMQ()
        if let path = arguments.value("report") {
            let machine = MachineDescription.current(note: arguments.value("machine-note") ?? "no note on other load given")
            let command = "courier chaos" + (arguments.flag("short") ? " --short" : "") + numbers.map { " --scenario \($0)" }.joined()
            let report = ReliabilityReport(results: results, machine: machine, command: command)
            try report.markdown.write(toFile: path, atomically: true, encoding: .utf8)
            context.print("wrote \(path)")
        }
        return results.allSatisfy(\.passed) ? ExitCode.success : ExitCode.failure
    }

    static func summary(_ result: ScenarioResult) -> String {
        var line = "scenario \(result.number): \(result.passed ? "PASSED" : "FAILED")"
        if let counts = result.counts {
            line += " attempted=\(counts.attempted) confirmed=\(counts.confirmed) ok=\(counts.ok) lost=\(counts.lost)"
            line += " unexpected=\(counts.unexpected) duplicated=\(counts.duplicated) recovered=\(counts.recovered)"
            line += " spooled=\(counts.spooled) removed-by-idempotency=\(counts.removedByIdempotency) dead-lettered=\(counts.deadLettered)"
        }
        if let timings = result.timings {
            line += " detect=\(timings.detect) fallback=\(timings.firstFallbackAnswer) failback=\(timings.failback) (ms)"
        }
        line += String(format: " duration=%.1fs rate=%.0f/s", result.durationSeconds, result.publishRate)
        for reason in result.failureReasons { line += "\n  - \(reason)" }
        return line
    }

    /// This process's executable (/proc/self/exe), so scenarios start workers of the same build.
    static func ownExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
