import Courier
import CourierKafka
import Foundation

/// `courier kafka-mock`: runs one librdkafka mock cluster on 127.0.0.1 that any Kafka client can use,
/// and takes fault commands on standard input.
struct KafkaMockCommand: CLICommand {
    let name = "kafka-mock"
    let abstract = "Run a mock Kafka cluster on 127.0.0.1 (librdkafka's); inject faults through standard input."
    let discussion: String? = """
        Prints the bootstrap servers on its first line, then answers each command read from standard input \
        with one line ("ok ..." or "error: ..."). Any Kafka client can connect: Courier (kafka://SERVERS), kcat, \
        confluent-kafka. Data lives in memory. Exits cleanly at end of input, on "quit", or on SIGTERM/SIGINT.

        Commands:
          broker down|up <id>                 Disconnect a broker / let it back (brokers are 1..N)
          rtt <broker> <ms>                   Delay a broker's answers
          errors <api> <count> <error>        Fail the next <count> requests of <api> (Produce, Fetch, ...)
                                              with <error> (NOT_LEADER_FOR_PARTITION, TRANSPORT, ...)
          clear-errors <api>                  Drop the request errors still queued for <api>
          leader <topic> <partition> <broker> Move a partition's leader
          topic <name> <partitions>           Create a topic
          topic-error <name> <error>|none     Answer metadata for a topic with an error
          help, quit
        """
    let options: [OptionSpec] = [
        OptionSpec(name: "brokers", valueName: "n", help: "How many brokers (default: 3)."),
        OptionSpec(name: "topic", valueName: "name:partitions", help: "Create a topic at start (repeatable).", repeatable: true),
    ]

    /// Where commands come from: standard input and termination signals, unless a test passes its own.
    var input: @Sendable () -> AsyncStream<KafkaMockInput> = { KafkaMockInput.standardInput() }

    func run(_ arguments: ParsedArguments, context: CLIContext) async throws -> Int32 {
        if let extra = arguments.positionals.first {
            throw UsageError("unexpected argument '\(extra)'; see 'courier kafka-mock --help'")
        }
        let brokers = try arguments.int("brokers", default: 3, in: 1...64)
        let topics = try arguments.all("topic").map(Self.parseTopic)
        let cluster = try KafkaMockCluster(brokers: brokers)
        defer { cluster.close() }
        for (topic, partitions) in topics { try cluster.createTopic(topic, partitions: partitions) }
        context.print(cluster.bootstrapServers)
        let session = KafkaMockSession(cluster: cluster)
        for await event in input() {
            guard case .line(let line) = event else { break }
            guard let answer = session.handle(line) else { continue }
            context.print(answer)
            if session.finished { break }
        }
        return ExitCode.success
    }

    static func parseTopic(_ text: String) throws(UsageError) -> (String, Int) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let partitions = Int(parts[1]), (1...10_000).contains(partitions) else {
            throw UsageError("'--topic \(text)' must be NAME:PARTITIONS with 1 to 10000 partitions, for example orders:3")
        }
        return (String(parts[0]), partitions)
    }
}
