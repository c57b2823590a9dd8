import Foundation
import Courier

/// A process the driver started: output goes to a log file (never an unread pipe, which would fill and
/// block the child), every wait has a deadline, and ``stop(grace:)`` makes sure it is gone.
///
/// Spawned with posix_spawn and reaped with waitpid: Foundation's Process watches for the end of its
/// child through inherited descriptors, so a child that leaves a daemon behind (`rabbitmq-server
/// -detached`) looks alive to it forever.
final class ChildProcess: @unchecked Sendable {
    // `exitStatus` and `inputDescriptor` are only touched while `lock` is held.
    private let lock = NSLock()
    private var exitStatus: Int32?
    private var inputDescriptor: Int32?
    let name: String
    let logPath: String
    let pid: pid_t

    /// Starts `executable` with `arguments`; standard output and error append to `logPath`. With
    /// `acceptsInput`, ``send(_:)`` writes lines to its standard input, else it reads /dev/null.
    init(
        name: String, executable: String, arguments: [String], logPath: String, acceptsInput: Bool = false,
        environment: [String: String] = [:]
    ) throws {
        self.name = name
        self.logPath = logPath
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw ChaosError("cannot write the log \(logPath)") }
        defer { close(log) }
        var input: [Int32] = [-1, -1]
        if acceptsInput {
            // A write to a child that died must fail with EPIPE, not kill this process with SIGPIPE.
            signal(SIGPIPE, SIG_IGN)
            guard pipe(&input) == 0 else { throw ChaosError("cannot make a pipe for \(name)") }
            // Neither end may leak into other children (the write end held open elsewhere would hide end of input).
            _ = fcntl(input[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(input[1], F_SETFD, FD_CLOEXEC)
        } else {
            input[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)
        }
        defer { close(input[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, log, 1)
        posix_spawn_file_actions_adddup2(&actions, log, 2)
        // Nothing else: posix_spawn passes on every descriptor not marked close-on-exec, and a daemon this
        // child leaves behind (`.ci/rabbitmq start`) would hold another child's pipe open for good, so
        // whoever waits for that pipe's end of input or output waits forever.
        ChildProcessLaunch.closeInheritedDescriptors(in: &actions)
        let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        var spawned: pid_t = 0
        let status = Self.withCStrings([executable] + arguments) { argv in
            Self.withCStrings(variables) { envp in
                // Never while a mock Kafka broker in this process goes down (see ChildProcessLaunch).
                ChildProcessLaunch.run { posix_spawn(&spawned, executable, &actions, nil, argv, envp) }
            }
        }
        guard status == 0 else {
            if acceptsInput { close(input[1]) }
            throw ChaosError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        pid = spawned
        inputDescriptor = acceptsInput ? input[1] : nil
    }

    deinit { if let inputDescriptor { close(inputDescriptor) } }

    /// Whether the process has not exited yet (reaps it when it has).
    var isRunning: Bool { reap() == nil }

    /// Sends `signal` (SIGKILL, SIGSTOP, ...) to the process while it runs.
    func deliver(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Writes one line to the process's standard input.
    func send(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        guard let inputDescriptor else { return }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(inputDescriptor, $0.baseAddress, $0.count) }
    }

    /// Closes standard input (the process sees end of input).
    func closeInput() {
        lock.lock()
        defer { lock.unlock() }
        if let inputDescriptor { close(inputDescriptor) }
        inputDescriptor = nil
    }

    /// Waits until the process exits; its exit status (128 + signal when killed), or nil when `deadline` passed first.
    func wait(deadline: Duration) async -> Int32? {
        let giveUp = ContinuousClock.now + deadline
        while true {
            if let status = reap() { return status }
            guard ContinuousClock.now < giveUp else { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// SIGTERM, then SIGKILL after `grace`; returns once the process is gone.
    func stop(grace: Duration = .seconds(10)) async {
        guard isRunning else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGTERM)
        if await wait(deadline: grace) == nil {
            kill(pid, SIGKILL)
            _ = await wait(deadline: .seconds(10))
        }
    }

    /// SIGKILL and wait until the process is gone (a crash, not a shutdown).
    func crash() async {
        deliver(SIGKILL)
        _ = await wait(deadline: .seconds(10))
    }

    /// The exit status once the process has ended, reaping it the first time.
    private func reap() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        let signalled = status & 0x7f
        exitStatus = signalled == 0 ? (status >> 8) & 0xff : 128 + signalled
        return exitStatus
    }

    private static func withCStrings<Result>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> Result) -> Result {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}

/// Runs a short command to completion, with its output appended to `logPath`; throws when it fails or
/// overruns `deadline` (then it is killed).
func runCommand(_ executable: String, _ arguments: [String], logPath: String, deadline: Duration, environment: [String: String] = [:]) async throws {
    let child = try ChildProcess(name: arguments.joined(separator: " "), executable: executable, arguments: arguments, logPath: logPath, environment: environment)
    let command = ([executable] + arguments).joined(separator: " ")
    guard let status = await child.wait(deadline: deadline) else {
        await child.crash()
        throw ChaosError("'\(command)' did not finish within \(deadline) (log: \(logPath))")
    }
    guard status == 0 else { throw ChaosError("'\(command)' failed with status \(status) (log: \(logPath))") }
}
