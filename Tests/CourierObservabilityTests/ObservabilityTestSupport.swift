import Courier
import CourierMemory
import Foundation
import Synchronization
@testable import CourierCLI

/// Memory brokers behind one observed producer, on a virtual clock.
struct ObservedFixture {
    let clock = VirtualClock()
    let brokers: [MemoryBroker]
    let transports: [MemoryTransport]
    let registry = MetricsRegistry()
    let observability: Observability

    init(names: [String] = ["primary", "secondary"]) async throws {
        let clock = self.clock
        observability = Observability(registry: registry, tracing: W3CTraceContextInstrument(), logger: SilentLogger())
        brokers = names.map { MemoryBroker(name: "\($0)-\(UUID().uuidString.prefix(8))", clock: clock) }
        transports = zip(names, brokers).map { MemoryTransport(broker: $1, name: $0) }
        for transport in transports { try await transport.start() }
    }

    /// No backoff delay; a breaker that opens after 4 calls at 50 % failures.
    static func configuration(maxAttempts: Int = 3, breakerMinimumCalls: Int = 4) -> ProducerConfiguration {
        ProducerConfiguration(
            retry: RetryPolicy(maxAttempts: maxAttempts, deadline: nil, backoff: Backoff(initial: .zero, maximum: .zero, jitter: .none)),
            retryBudgetTokens: 1000,
            breaker: CircuitBreakerConfiguration(window: .count(max(10, breakerMinimumCalls)), minimumCalls: breakerMinimumCalls, openDuration: .seconds(2), permittedCallsInHalfOpen: 2),
            relayInterval: .milliseconds(100)
        )
    }

    func producer(maxAttempts: Int = 3, breakerMinimumCalls: Int = 4, spool: (any Spool)? = nil) -> Producer {
        Producer(
            transports: transports, configuration: Self.configuration(maxAttempts: maxAttempts, breakerMinimumCalls: breakerMinimumCalls), spool: spool, clock: clock,
            random: RandomSource(seed: 7), observability: observability
        )
    }

    /// A counter's value for the labels a memory transport named `transport` gets on `topic`.
    func sent(_ transport: String, topic: String = "orders", _ label: String = MessagingMetrics.sentMessages) -> Int64? {
        registry.counterValue(label, [
            (MessagingMetrics.system, "memory"), (MessagingMetrics.transport, transport), (MessagingMetrics.destination, topic),
            (MessagingMetrics.operationType, "send"),
        ])
    }

    func shutdown() async {
        for transport in transports { await transport.shutdown() }
    }
}

/// Advances `clock` whenever something sleeps on it, until cancelled.
func autoAdvance(_ clock: VirtualClock) -> Task<Void, Never> {
    Task {
        while !Task.isCancelled {
            await clock.waitForSleepers(1)
            if Task.isCancelled { return }
            clock.advanceToNextDeadline()
            await Task.yield()
        }
    }
}

/// Every message of `topic` on `transport`, acked, in delivery order.
func drain(_ transport: MemoryTransport, topic: String, count: Int) async throws -> [Envelope] {
    let stream = try await transport.subscribe(Subscription(topic: topic, group: "verify", prefetch: 64))
    var envelopes: [Envelope] = []
    for try await delivery in stream {
        envelopes.append(delivery.envelope)
        try await delivery.ack()
        if envelopes.count == count { break }
    }
    await stream.close()
    return envelopes
}

/// A temporary SQLite file path, removed with its WAL files by `remove()`.
struct TemporaryFile {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("courier-observability-\(UUID().uuidString).sqlite").path

    func remove() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

/// A trace the tests publish under.
let sampleTrace = TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: "congo=t61rcWkgMzE")

/// Captures what a command writes.
final class CapturedOutput: OutputSink {
    private let text = Mutex("")
    private let changed = ChangeSignal()
    func write(_ piece: String) {
        text.withLock { $0 += piece }
        changed.bump()
    }
    var value: String { text.withLock { $0 } }

    /// Waits until the text contains `needle`, or `timeout` passes without any output.
    func waitFor(_ needle: String, timeout: Duration = .seconds(30)) async -> Bool {
        while true {
            let version = changed.version
            if value.contains(needle) { return true }
            guard await changed.waitForChange(after: version, timeout: timeout) else { return value.contains(needle) }
        }
    }
}

/// Runs `courier` in-process with `arguments`; output goes to the given sinks.
func runCourier(
    _ arguments: [String], out: CapturedOutput = CapturedOutput(), err: CapturedOutput = CapturedOutput(),
    environment: [String: String] = [:], input: [String]? = nil
) async -> (status: Int32, out: String, err: String) {
    let context = CLIContext(standardOutput: out, standardError: err, environment: environment, registry: CourierCommandLine.builtInRegistry())
    var commandLine = CourierCommandLine()
    if let input {
        let lines = Mutex(input[...])
        var send = SendCommand()
        send.readLine = { lines.withLock { $0.popFirst() } }
        commandLine.commands = commandLine.commands.map { $0.name == "send" ? send : $0 }
    }
    let status = await commandLine.run(arguments, context: context)
    return (status, out.value, err.value)
}
