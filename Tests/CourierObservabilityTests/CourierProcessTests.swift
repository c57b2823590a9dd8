import Courier
import Foundation
import Synchronization
import Testing

/// The built `courier` binary run as a child process, its output collected as it comes.
final class CourierProcess: Sendable {
    let process: Process
    let standardOutput = CapturedOutput()
    let standardError = CapturedOutput()
    private let input: FileHandle

    /// The `courier` next to the test bundle (`swift build --build-tests` and `swift test` build both).
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("courier")
    }

    init(_ arguments: [String]) throws {
        process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        let output = Pipe(), error = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = input
        self.input = input.fileHandleForWriting
        let (out, err) = (standardOutput, standardError)
        output.fileHandleForReading.readabilityHandler = { handle in out.write(String(decoding: handle.availableData, as: UTF8.self)) }
        error.fileHandleForReading.readabilityHandler = { handle in err.write(String(decoding: handle.availableData, as: UTF8.self)) }
        try ChildProcessLaunch.run { try process.run() }
    }

    /// Writes `lines` to standard input and closes it, as `printf 'a\nb\n' | courier …` would.
    func pipe(_ lines: [String]) throws {
        try write(lines)
        try input.close()
    }

    /// Writes `lines` to standard input and leaves it open, as a terminal would.
    func write(_ lines: [String]) throws {
        try input.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
    }

    /// The exit status, once the process ended (polling: Process has no async wait).
    func exitStatus(within limit: Duration = .seconds(60)) async -> Int32? {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                return nil
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        // Let the last output arrive.
        try? await Task.sleep(for: .milliseconds(100))
        return process.terminationStatus
    }
}

@Suite("observability: the courier binary, piped and interrupted", .timeLimit(.minutes(2)), .serialized)
struct CourierProcessTests {
    static var amqpURL: String { ProcessInfo.processInfo.environment["COURIER_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/" }

    @Test("lines piped into courier send come out of courier consume, in order, through RabbitMQ")
    func pipedThroughRabbitMQ() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CourierProcess.binary.path), "build the courier binary first (swift build)")
        let topic = "courier-test.pipe.\(UUID().uuidString.prefix(8).lowercased())"
        let consume = try CourierProcess(["consume", "--transport", Self.amqpURL, "--topic", topic, "--group", "pipe", "--count", "3"])
        #expect(await consume.standardError.waitFor("ready:"), "consume: \(consume.standardError.value)")
        let send = try CourierProcess(["send", "--transport", Self.amqpURL, "--topic", topic])
        try send.pipe(["first line", "second line", "third line"])
        #expect(await send.exitStatus() == 0, "send: \(send.standardError.value)")
        #expect(send.standardError.value.contains("sent 3 messages to \(topic)"))
        #expect(await consume.exitStatus() == 0, "consume: \(consume.standardError.value)")
        #expect(consume.standardOutput.value == "first line\nsecond line\nthird line\n")
        #expect(!consume.standardError.value.contains("guest:guest"), "the password must be redacted")
    }

    @Test("Ctrl-C stops courier consume cleanly: exit 0 and a summary")
    func interruptLeavesCleanly() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CourierProcess.binary.path), "build the courier binary first (swift build)")
        let topic = "courier-test.interrupt.\(UUID().uuidString.prefix(8).lowercased())"
        let consume = try CourierProcess(["consume", "--transport", Self.amqpURL, "--topic", topic, "--metrics-port", "0"])
        #expect(await consume.standardError.waitFor("ready:"), "consume: \(consume.standardError.value)")
        consume.process.interrupt()
        #expect(await consume.exitStatus() == 0, "consume: \(consume.standardError.value)")
        #expect(consume.standardError.value.contains("consumed 0 messages from \(topic)"))
    }

    @Test("Ctrl-C stops courier send while it waits for standard input: what was sent is summed up, exit 0")
    func interruptedSendSumsUp() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CourierProcess.binary.path), "build the courier binary first (swift build)")
        let topic = "courier-test.interrupt-send.\(UUID().uuidString.prefix(8).lowercased())"
        let consume = try CourierProcess(["consume", "--transport", Self.amqpURL, "--topic", topic, "--group", "sum", "--count", "2"])
        #expect(await consume.standardError.waitFor("ready:"), "consume: \(consume.standardError.value)")
        let send = try CourierProcess(["send", "--transport", Self.amqpURL, "--topic", topic])
        try send.write(["one", "two"])
        // Both arrived, so send is now blocked reading a third line from the still-open input.
        #expect(await consume.exitStatus() == 0, "consume: \(consume.standardError.value)")
        send.process.interrupt()
        #expect(await send.exitStatus(within: .seconds(20)) == 0, "send: \(send.standardError.value)")
        #expect(send.standardError.value.contains("sent 2 messages to \(topic)"), "send: \(send.standardError.value)")
    }
}
