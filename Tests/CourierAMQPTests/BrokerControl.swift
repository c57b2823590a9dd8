import Courier
import Foundation
import Glibc

/// Stops, starts and freezes the local broker through `.ci/rabbitmq`, for the recovery tests.
enum BrokerControl {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Where `.ci/rabbitmq` keeps the node's state (and its pid file).
    static var stateDirectory: String {
        ProcessInfo.processInfo.environment["COURIER_RABBITMQ_DIR"] ?? repositoryRoot.appendingPathComponent(".courier/rabbitmq").path
    }

    /// Runs `.ci/rabbitmq ARGUMENT` on a thread of its own (not the pool) and waits for it. Its output goes to
    /// a file: the broker it starts must not hold a pipe of ours open. `port` picks another node than the
    /// test broker (`COURIER_RABBITMQ_PORT`), `epmdPort` another epmd than the machine's (`ERL_EPMD_PORT`).
    static func script(_ argument: String, label: String? = nil, port: Int? = nil, epmdPort: Int? = nil) async throws {
        let script = repositoryRoot.appendingPathComponent(".ci/rabbitmq").path
        let log = NSTemporaryDirectory() + "courier-amqp-broker-\(label ?? argument)-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let node = (port.map { "COURIER_RABBITMQ_PORT=\($0) " } ?? "") + (epmdPort.map { "ERL_EPMD_PORT=\($0) " } ?? "")
        let command = "\(node)bash '\(script)' \(argument) >'\(log)' 2>&1 </dev/null"
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: runShell(command)) }.start()
        }
        if status != 0 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failure(description: ".ci/rabbitmq \(argument) failed (status \(status)): \(text); start the broker with make rabbitmq-start")
        }
    }

    /// Runs `bash -c command` and waits for it; returns its wait status (0 on success, -1 when it did not start).
    /// Unlike `system`, the shell gets no descriptor of this process but standard input, output and error:
    /// the broker daemon it starts would otherwise keep, say, another test's child's input pipe open for
    /// good, and that child would never see the end of its input.
    private static func runShell(_ command: String) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        ChildProcessLaunch.closeInheritedDescriptors(in: &actions)
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/bash", "-c", command].map { (word: String) in strdup(word) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = ChildProcessLaunch.run { posix_spawn(&pid, "/bin/bash", &actions, nil, argv, environ) }
        guard spawned == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        return status
    }

    /// Runs `rabbitmqctl ARGUMENTS` against the test node through `.ci/rabbitmq ctl`.
    static func ctl(_ arguments: [String]) async throws {
        try await script((["ctl"] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " "), label: "ctl")
    }

    /// The broker's process id, from the pid file `.ci/rabbitmq` writes.
    static func brokerPID() throws -> pid_t {
        let path = stateDirectory + "/rabbit.pid"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = pid_t(text.filter(\.isNumber)) else {
            throw Failure(description: "no broker pid in \(path): the broker was not started by .ci/rabbitmq; start it with make rabbitmq-start")
        }
        return pid
    }

    static func signal(_ signal: Int32) throws {
        let pid = try brokerPID()
        guard kill(pid, signal) == 0 else { throw Failure(description: "kill(\(pid), \(signal)) failed: errno \(errno)") }
    }
}

/// Polls `condition` every 20 ms until it holds; fails after `limit`.
func eventually(_ limit: Duration, _ what: String, _ condition: @escaping @Sendable () -> Bool) async throws {
    try await within(limit, what) {
        while !condition() { try await Task.sleep(for: .milliseconds(20)) }
    }
}
