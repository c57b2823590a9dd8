import Foundation

/// A `courier kafka-mock` process: a librdkafka mock cluster on loopback that producer and consumer
/// processes share, with faults sent as lines on its standard input.
final class KafkaMockProcess: Sendable {
    let child: ChildProcess
    let bootstrapServers: String
    let brokers: Int

    /// Starts the cluster with `topic` (3 partitions) and waits for its bootstrap line.
    init(executable: String, brokers: Int, topic: String, logPath: String) async throws {
        child = try ChildProcess(
            name: "kafka-mock", executable: executable,
            arguments: ["kafka-mock", "--brokers", String(brokers), "--topic", "\(topic):3"],
            logPath: logPath, acceptsInput: true
        )
        self.brokers = brokers
        let giveUp = ContinuousClock.now + .seconds(30)
        while true {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: Self.isBootstrapLine) {
                bootstrapServers = String(line)
                break
            }
            guard child.isRunning, ContinuousClock.now < giveUp else {
                await child.crash()
                throw ChaosError("courier kafka-mock printed no bootstrap servers (log: \(logPath))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// `127.0.0.1:PORT[,127.0.0.1:PORT...]`, not one of librdkafka's log lines.
    private static func isBootstrapLine(_ line: Substring) -> Bool {
        line.split(separator: ",").allSatisfy { server in
            let parts = server.split(separator: ":")
            return parts.count == 2 && parts[0].allSatisfy { $0.isNumber || $0 == "." } && Int(parts[1]) != nil
        }
    }

    var url: String { "kafka://\(bootstrapServers)" }

    /// Sends one fault command, such as `broker down 1` (see `courier kafka-mock --help`).
    func command(_ line: String) { child.send(line) }

    func allBrokers(up: Bool) {
        for broker in 1...brokers { command("broker \(up ? "up" : "down") \(broker)") }
    }

    func stop() async {
        command("quit")
        child.closeInput()
        if await child.wait(deadline: .seconds(10)) == nil { await child.stop(grace: .seconds(5)) }
    }
}
