import Courier
import CourierKafka
import Foundation
import Synchronization
import Testing
@testable import CourierCLI

@Suite("courier kafka-mock")
struct KafkaMockCommandTests {
    @Test("fault commands get one answer line each; bad ones an error line")
    func sessionAnswers() throws {
        let cluster = try KafkaMockCluster(brokers: 2)
        defer { cluster.close() }
        let session = KafkaMockSession(cluster: cluster)
        #expect(session.handle("topic orders 3") == "ok topic orders with 3 partitions")
        #expect(session.handle("broker down 2") == "ok broker 2 down")
        #expect(session.handle("broker up 2") == "ok broker 2 up")
        #expect(session.handle("rtt 1 250") == "ok broker 1 rtt 250 ms")
        #expect(session.handle("errors Produce 3 NOT_LEADER_FOR_PARTITION") == "ok next 3 Produce requests fail with NOT_LEADER_FOR_PARTITION")
        #expect(session.handle("errors fetch 1 _transport") == "ok next 1 Fetch requests fail with _TRANSPORT")
        #expect(session.handle("clear-errors Produce") == "ok Produce request errors cleared")
        #expect(session.handle("leader orders 1 2") == "ok leader of orders[1] is broker 2")
        #expect(session.handle("topic-error ghost UNKNOWN_TOPIC_OR_PART") == "ok topic ghost metadata error UNKNOWN_TOPIC_OR_PART")
        #expect(session.handle("") == nil)
        #expect(session.handle("# a comment") == nil)
        #expect(session.handle("broker down 7")?.hasPrefix("error: broker 7 does not exist") == true)
        #expect(session.handle("errors Produce 1 NO_SUCH_ERROR")?.hasPrefix("error: unknown Kafka error") == true)
        #expect(session.handle("errors Nope 1 TRANSPORT")?.hasPrefix("error: unknown Kafka API") == true)
        #expect(session.handle("launch rockets")?.hasPrefix("error: unknown command") == true)
        #expect(!session.finished)
        #expect(session.handle("quit") == "ok bye")
        #expect(session.finished)
    }

    @Test("bad options are usage errors (exit 2); help follows the CLI's layout")
    func usage() async {
        let badTopic = await runCourierCommand(["kafka-mock", "--topic", "orders"])
        #expect(badTopic.status == 2)
        #expect(badTopic.err.contains("NAME:PARTITIONS"))
        let badBrokers = await runCourierCommand(["kafka-mock", "--brokers", "0"])
        #expect(badBrokers.status == 2)
        let help = await runCourierCommand(["help", "kafka-mock"])
        #expect(help.status == 0)
        #expect(help.out.contains("USAGE: courier kafka-mock [--brokers <n>] [--topic <name:partitions> ...]"))
        let transports = await runCourierCommand(["transports"])
        #expect(transports.out.contains("kafka://"))
    }

    @Test("the courier binary: bootstrap servers first, faults through stdin, Courier publishes through it, SIGTERM exits 0")
    func binaryDrivenThroughStandardInput() async throws {
        let mock = try MockProcess(arguments: ["kafka-mock", "--brokers", "2", "--topic", "orders:2"])
        let bootstrap = try #require(await mock.nextLine())
        #expect(bootstrap.split(separator: ",").count == 2)
        #expect(bootstrap.hasPrefix("127.0.0.1:"))

        let transport = try KafkaTransportFactory().makeTransport(
            TransportSpec(url: TransportURL("kafka://\(bootstrap)?linger.ms=1")), context: TransportContext()
        )
        try await transport.start()
        let confirmation = try await transport.publish(Envelope(topic: "orders", text: "through the mock"))
        #expect(confirmation.partition != nil)

        mock.send("errors Produce 2 NOT_LEADER_FOR_PARTITION")
        #expect(await mock.nextLine() == "ok next 2 Produce requests fail with NOT_LEADER_FOR_PARTITION")
        // librdkafka retries those; the publish still succeeds.
        _ = try await transport.publish(Envelope(topic: "orders", text: "after injected errors"))
        mock.send("broker down 1")
        #expect(await mock.nextLine() == "ok broker 1 down")
        mock.send("broker up 1")
        #expect(await mock.nextLine() == "ok broker 1 up")
        mock.send("nonsense")
        #expect(await mock.nextLine()?.hasPrefix("error: ") == true)
        await transport.shutdown()

        mock.terminate()
        #expect(await mock.exitStatus() == 0)
    }

    @Test("the courier binary exits 0 at end of input")
    func binaryExitsAtEndOfInput() async throws {
        let mock = try MockProcess(arguments: ["kafka-mock", "--brokers", "1"])
        #expect(await mock.nextLine()?.hasPrefix("127.0.0.1:") == true)
        mock.closeInput()
        #expect(await mock.exitStatus() == 0)
    }
}

/// Runs `courier` in-process and captures its output.
func runCourierCommand(_ arguments: [String]) async -> (status: Int32, out: String, err: String) {
    let out = Captured()
    let err = Captured()
    let context = CLIContext(standardOutput: out, standardError: err, environment: [:], registry: CourierCommandLine.builtInRegistry())
    let status = await CourierCommandLine().run(arguments, context: context)
    return (status, out.value, err.value)
}

final class Captured: OutputSink {
    private let text = Mutex("")
    func write(_ piece: String) { text.withLock { $0 += piece } }
    var value: String { text.withLock { $0 } }
}

/// The built `courier` executable running as a child process, driven through its standard input.
final class MockProcess: Sendable {
    private let process: Process
    private let input: Pipe
    private let output: Pipe
    private let lines = LineBuffer()

    init(arguments: [String]) throws {
        let process = Process()
        process.executableURL = try Self.courierExecutable()
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        self.process = process
        self.input = input
        self.output = output
        output.fileHandleForReading.readabilityHandler = { [lines] handle in
            lines.append(handle.availableData)
        }
        try ChildProcessLaunch.run { try process.run() }
    }

    /// The built executable next to the test bundle.
    static func courierExecutable() throws -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("courier")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw CourierError(.unavailable, "the courier executable was not found next to \(CommandLine.arguments[0]); build it first (swift build)")
    }

    func send(_ line: String) { input.fileHandleForWriting.write(Data((line + "\n").utf8)) }

    func closeInput() { try? input.fileHandleForWriting.close() }

    func terminate() { process.terminate() }

    /// The next output line, waiting up to 10 seconds.
    func nextLine() async -> String? {
        for _ in 0..<100 {
            if let line = lines.next() { return line }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// The exit status, waiting up to 10 seconds (then killing it and returning nil).
    func exitStatus() async -> Int32? {
        defer { output.fileHandleForReading.readabilityHandler = nil }
        for _ in 0..<100 {
            if !process.isRunning { return process.terminationStatus }
            try? await Task.sleep(for: .milliseconds(100))
        }
        kill(process.processIdentifier, SIGKILL)
        return nil
    }
}

/// Output bytes split into lines.
final class LineBuffer: Sendable {
    private let state = Mutex<(partial: String, lines: [String])>(("", []))

    func append(_ data: Data) {
        state.withLock { state in
            state.partial += String(decoding: data, as: UTF8.self)
            while let newline = state.partial.firstIndex(of: "\n") {
                state.lines.append(String(state.partial[..<newline]))
                state.partial = String(state.partial[state.partial.index(after: newline)...])
            }
        }
    }

    func next() -> String? { state.withLock { $0.lines.isEmpty ? nil : $0.lines.removeFirst() } }
}
