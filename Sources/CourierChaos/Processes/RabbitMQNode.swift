import Foundation

/// The private RabbitMQ node `.ci/rabbitmq` runs on `port` (its own state, beside the test suite's
/// node), started, killed, hung and resumed by the chaos driver.
struct RabbitMQNode: Sendable {
    let repositoryRoot: String
    let port: Int
    let logPath: String

    var url: String { "amqp://guest:guest@127.0.0.1:\(port)/" }

    func start() async throws { try await script("start", deadline: .seconds(180)) }
    func stop() async throws { try await script("stop", deadline: .seconds(120)) }
    /// SIGKILL, leaving stale state behind (the script returns once the VM is gone).
    func kill() async throws { try await script("kill", deadline: .seconds(30)) }

    /// The broker VM's pid, from the node's pid file.
    func pid() throws -> Int32 {
        let path = "\(repositoryRoot)/.courier/rabbitmq-\(port)/rabbit.pid"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { throw ChaosError("no pid in \(path); is the node on port \(port) running?") }
        return pid
    }

    /// SIGSTOP: the VM stops answering, the sockets stay open (only heartbeats and timeouts notice).
    func hang() throws { Foundation.kill(try pid(), SIGSTOP) }
    /// SIGCONT after ``hang()``.
    func resume() throws { Foundation.kill(try pid(), SIGCONT) }

    private func script(_ command: String, deadline: Duration) async throws {
        try await runCommand(
            "/bin/bash", ["\(repositoryRoot)/.ci/rabbitmq", command], logPath: logPath, deadline: deadline,
            environment: ["COURIER_RABBITMQ_PORT": String(port)]
        )
    }
}
