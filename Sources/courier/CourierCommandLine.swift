import Courier
import CourierAMQP
import CourierKafka
import CourierMemory

/// The `courier` tool: picks the subcommand, parses its options, maps errors to exit codes.
struct CourierCommandLine {
    static let version = "0.1.0"

    var commands: [any CLICommand] = [CheckCommand(), TransportsCommand(), DemoCommand(), BenchCommand(), DeadLetterCommand(), KafkaMockCommand(), SendCommand(), ConsumeCommand(), ChaosCommand(), ChaosWorkerCommand()]

    /// The transports this build of the tool links.
    static func builtInRegistry() -> TransportRegistry {
        TransportRegistry([MemoryTransportFactory(), KafkaTransportFactory(), AMQPTransportFactory()])
    }

    /// Runs `arguments` (without the program name) and returns the exit code.
    func run(_ arguments: [String], context: CLIContext) async -> Int32 {
        guard let first = arguments.first else {
            context.printError("error: no subcommand given\n")
            context.standardError.write(overview)
            return ExitCode.usage
        }
        if first == "--help" || first == "-h" || first == "help" {
            if let topic = arguments.dropFirst().first {
                guard let command = command(named: topic) else { return unknown(topic, context: context) }
                context.standardOutput.write(command.help)
            } else {
                context.standardOutput.write(overview)
            }
            return ExitCode.success
        }
        if first == "--version" {
            context.print(Self.version)
            return ExitCode.success
        }
        guard let command = command(named: first) else { return unknown(first, context: context) }
        let rest = Array(arguments.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            context.standardOutput.write(command.help)
            return ExitCode.success
        }
        do {
            let parsed = try ParsedArguments.parse(rest, options: command.options, command: "courier \(command.name)")
            return try await command.run(parsed, context: context)
        } catch let error as UsageError {
            context.printError("error: \(error)")
            return ExitCode.usage
        } catch let error as CourierError {
            context.printError("error: \(error.message)")
            return ExitCode.failure
        } catch {
            context.printError("error: \(error)")
            return ExitCode.failure
        }
    }

    private func command(named name: String) -> (any CLICommand)? { commands.first { $0.name == name } }

    private func unknown(_ name: String, context: CLIContext) -> Int32 {
        let names = commands.filter { !$0.isHidden }.map(\.name).joined(separator: ", ")
        context.printError("error: unknown subcommand '\(name)'; the subcommands are \(names). See 'courier --help'")
        return ExitCode.usage
    }

    var overview: String {
        var text = """
            OVERVIEW: Courier — fault-tolerant messaging over RabbitMQ, Kafka and an in-memory broker.

            USAGE: courier <subcommand> [options]

            OPTIONS:
              -h, --help              Show help information.
              --version               Show the version.

            SUBCOMMANDS:

            """
        for command in commands where !command.isHidden {
            text += "  " + command.name.padding(toLength: 22, withPad: " ", startingAt: 0) + command.abstract + "\n"
        }
        text += "\n  See 'courier help <subcommand>' for detailed help.\n"
        return text
    }
}
