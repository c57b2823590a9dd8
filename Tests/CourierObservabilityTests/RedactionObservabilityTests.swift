import Courier
import CourierMemory
import Synchronization
import Testing

/// Keeps every line it is given.
final class RecordingLogger: CourierLogger {
    private let lines = Mutex<[String]>([])
    func log(level: LogLevel, _ message: String, metadata: [String: String]) {
        let rendered = metadata.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        lines.withLock { $0.append("\(level) \(message)\(rendered)") }
    }
    var all: [String] { lines.withLock { $0 } }
}

@Suite("observability: secrets never reach logs, errors or metric labels", .timeLimit(.minutes(1)))
struct RedactionObservabilityTests {
    static let secretURL = "amqp://orders:s3cr3t-pass@rabbit.internal:5672/?password=q-secret"

    @Test("the observability logger scrubs passwords from messages and metadata")
    func loggerRedacts() {
        let recorder = RecordingLogger()
        let observability = Observability(logger: recorder)
        observability.logger.warning("cannot reach \(Self.secretURL)", metadata: ["url": Self.secretURL])
        #expect(recorder.all.count == 1)
        #expect(!recorder.all[0].contains("s3cr3t-pass"))
        #expect(!recorder.all[0].contains("q-secret"))
        #expect(recorder.all[0].contains("amqp://orders:***@rabbit.internal:5672/"))
    }

    @Test("a producer's own log lines (failover) go through the redacting logger")
    func producerLogsRedacted() async throws {
        let recorder = RecordingLogger()
        let broker = MemoryBroker(name: "redaction-\(Int.random(in: 0..<1_000_000))")
        let backup = MemoryBroker(name: "redaction-backup-\(Int.random(in: 0..<1_000_000))")
        let transports = [MemoryTransport(broker: broker, name: Self.secretURL), MemoryTransport(broker: backup, name: "backup")]
        for transport in transports { try await transport.start() }
        let producer = Producer(
            transports: transports,
            configuration: ProducerConfiguration(retry: RetryPolicy(maxAttempts: 1, deadline: nil, backoff: Backoff(initial: .zero, maximum: .zero, jitter: .none))),
            logger: recorder
        )
        _ = try await producer.publish(Envelope(topic: "orders", text: "1"))
        broker.inject(.down)
        _ = try await producer.publish(Envelope(topic: "orders", text: "2"))
        #expect(recorder.all.contains { $0.contains("failed over") })
        #expect(!recorder.all.joined().contains("s3cr3t-pass"))
        for transport in transports { await transport.shutdown() }
    }

    @Test("label values are scrubbed before they become part of a metric")
    func metricLabelsRedacted() throws {
        let registry = MetricsRegistry()
        registry.counter(MessagingMetrics.sentMessages, [(MessagingMetrics.transport, Self.secretURL)]).increment(by: 1)
        let page = registry.prometheusText()
        #expect(!page.contains("s3cr3t-pass"))
        #expect(!page.contains("q-secret"))
        #expect(page.contains(#"courier_transport="amqp://orders:***@rabbit.internal:5672/?password=***""#))
        #expect(registry.counterValue(MessagingMetrics.sentMessages, [(MessagingMetrics.transport, Self.secretURL)]) == 1)
    }

    @Test("courier send to an unreachable broker fails with an error that names it without its password")
    func cliErrorRedacted() async {
        let result = await runCourier(["send", "--transport", "amqp://orders:s3cr3t-pass@127.0.0.1:1/", "--topic", "t", "hello"])
        #expect(result.status == 1)
        #expect(result.err.contains("127.0.0.1:1"))
        #expect(!result.err.contains("s3cr3t-pass"))
        #expect(!result.out.contains("s3cr3t-pass"))
    }
}

@Suite("observability: W3C trace context")
struct TraceContextTests {
    @Test("valid traceparent values are accepted and malformed ones refused")
    func validation() {
        #expect(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(TraceContext(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra") != nil)
        for bad in [
            "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            #expect(TraceContext(traceparent: bad) == nil, "\(bad) should be refused")
        }
    }

    @Test("the instrument injects into and extracts from headers; a malformed header is not extracted")
    func injectExtract() throws {
        let instrument = W3CTraceContextInstrument()
        let trace = try #require(sampleTrace)
        var headers: [String: String] = ["other": "x"]
        instrument.inject(trace, into: &headers, using: HeaderPropagation())
        #expect(headers == ["other": "x", "traceparent": trace.traceparent, "tracestate": "congo=t61rcWkgMzE"])
        var extracted: TraceContext?
        instrument.extract(headers, into: &extracted, using: HeaderPropagation())
        #expect(extracted == trace)
        var none: TraceContext?
        instrument.extract(["traceparent": "garbage"], into: &none, using: HeaderPropagation())
        #expect(none == nil)
    }
}
