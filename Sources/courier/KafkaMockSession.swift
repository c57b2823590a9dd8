import Courier
import CourierKafka

/// Interprets `courier kafka-mock` fault commands against a cluster: one answer line per command.
final class KafkaMockSession {
    let cluster: KafkaMockCluster
    private(set) var finished = false

    init(cluster: KafkaMockCluster) { self.cluster = cluster }

    /// The answer to `line`, or `nil` for a blank line or a `#` comment.
    func handle(_ line: String) -> String? {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let command = words.first, !command.hasPrefix("#") else { return nil }
        do {
            return try answer(command.lowercased(), Array(words.dropFirst()))
        } catch {
            return "error: \((error as? CourierError)?.message ?? "\(error)")"
        }
    }

    private func answer(_ command: String, _ arguments: [String]) throws -> String {
        switch (command, arguments.count) {
        case ("broker", 2):
            let id = try number(arguments[1], "broker id")
            switch arguments[0].lowercased() {
            case "down": try cluster.setBrokerDown(id)
            case "up": try cluster.setBrokerUp(id)
            default: throw SessionError("write 'broker down <id>' or 'broker up <id>'")
            }
            return "ok broker \(id) \(arguments[0].lowercased())"
        case ("rtt", 2):
            let id = try number(arguments[0], "broker id")
            let milliseconds = try number(arguments[1], "round-trip time")
            try cluster.setRoundTripTime(milliseconds, broker: id)
            return "ok broker \(id) rtt \(milliseconds) ms"
        case ("errors", 3):
            let api = try KafkaAPI(named: arguments[0])
            let count = try number(arguments[1], "count")
            guard (1...100_000).contains(count) else { throw SessionError("count must be 1 to 100000") }
            let error = try KafkaErrorCode(named: arguments[2])
            cluster.pushRequestErrors(api: api, errors: Array(repeating: error, count: count))
            return "ok next \(count) \(api) requests fail with \(error)"
        case ("clear-errors", 1):
            let api = try KafkaAPI(named: arguments[0])
            cluster.clearRequestErrors(api: api)
            return "ok \(api) request errors cleared"
        case ("leader", 3):
            let partition = try number(arguments[1], "partition")
            let broker = try number(arguments[2], "broker id")
            try cluster.setPartitionLeader(topic: arguments[0], partition: partition, broker: broker)
            return "ok leader of \(arguments[0])[\(partition)] is broker \(broker)"
        case ("topic", 2):
            let partitions = try number(arguments[1], "partitions")
            try cluster.createTopic(arguments[0], partitions: partitions)
            return "ok topic \(arguments[0]) with \(partitions) partitions"
        case ("topic-error", 2):
            let error = arguments[1].lowercased() == "none" ? nil : try KafkaErrorCode(named: arguments[1])
            cluster.setTopicError(arguments[0], error)
            return "ok topic \(arguments[0]) metadata error \(error.map(\.description) ?? "none")"
        case ("help", 0):
            return "ok commands: broker down|up <id>; rtt <broker> <ms>; errors <api> <count> <error>; clear-errors <api>; leader <topic> <partition> <broker>; topic <name> <partitions>; topic-error <name> <error>|none; quit"
        case ("quit", 0), ("exit", 0):
            finished = true
            return "ok bye"
        default:
            throw SessionError("unknown command or wrong arguments: '\(([command] + arguments).joined(separator: " "))'; type 'help'")
        }
    }

    private func number(_ text: String, _ what: String) throws -> Int {
        guard let value = Int(text) else { throw SessionError("\(what) '\(text)' is not a number") }
        return value
    }
}

/// A fault command that could not be understood.
struct SessionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
