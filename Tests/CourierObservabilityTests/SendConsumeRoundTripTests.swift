import Courier
import CourierKafka
import Foundation
import Testing

/// `courier send | courier consume` through real brokers: the commands run in-process, the brokers do not.
@Suite("observability: courier send and courier consume round trips", .timeLimit(.minutes(3)), .serialized)
struct SendConsumeRoundTripTests {
    /// Set by `make test` and CI; the default matches `.ci/rabbitmq`.
    static var amqpURL: String { ProcessInfo.processInfo.environment["COURIER_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/" }

    @Test("through RabbitMQ: lines, keys and headers (a traceparent among them) arrive in order; metrics count them")
    func roundTripRabbitMQ() async throws {
        // Stops by --count: the 5th-and-later would be handed back, never printed.
        try await roundTrip(
            transport: Self.amqpURL, topic: "courier-test.send-consume.\(UUID().uuidString.prefix(8).lowercased())", system: "rabbitmq",
            stop: ["--count", "4"]
        )
    }

    @Test("through the Kafka mock cluster: lines, keys and headers arrive in order; metrics count them")
    func roundTripKafka() async throws {
        let cluster = try KafkaMockCluster(brokers: 1)
        defer { cluster.close() }
        let topic = "send-consume-\(UUID().uuidString.prefix(8).lowercased())"
        try cluster.createTopic(topic, partitions: 1)
        let url = cluster.url([
            "session.timeout.ms": "3000", "heartbeat.interval.ms": "300", "auto.commit.interval.ms": "200", "fetch.wait.max.ms": "50", "linger.ms": "1",
        ])
        // Stops after 10 s without a message, which leaves time to read the metrics page while it runs.
        try await roundTrip(transport: url, topic: topic, system: "kafka", stop: ["--idle-ms", "10000"])
    }

    private func roundTrip(transport: String, topic: String, system: String, stop: [String]) async throws {
        let readsPage = stop.first == "--idle-ms"
        let trace = try #require(sampleTrace)
        let consumeOut = CapturedOutput()
        let consumeErr = CapturedOutput()
        let consuming = Task {
            await runCourier(
                ["consume", "--transport", transport, "--topic", topic, "--group", "round-trip", "--json", "--metrics-port", "0"] + stop,
                out: consumeOut, err: consumeErr
            )
        }
        #expect(await consumeErr.waitFor("ready: consuming \(topic)"), "consume did not get ready: \(consumeErr.value)")

        // Two as arguments, two as lines of standard input, as `printf 'c\nd\n' | courier send` would.
        let fromArguments = await runCourier([
            "send", "--transport", transport, "--topic", topic, "--key", "k1", "--header", "traceparent=\(trace.traceparent)", "a", "b",
        ])
        #expect(fromArguments.status == 0, "send failed: \(fromArguments.err)")
        #expect(fromArguments.err.contains("sent 2 messages to \(topic)"))
        let fromInput = await runCourier(["send", "--transport", transport, "--topic", topic, "--key", "k1"], input: ["c", "d"])
        #expect(fromInput.status == 0, "send failed: \(fromInput.err)")

        let metricsLine = consumeErr.value.split(separator: "\n").first { $0.hasPrefix("metrics at ") }
        let metricsURL = try #require(metricsLine.flatMap { URL(string: String($0.dropFirst("metrics at ".count))) })
        #expect(await consumeOut.waitFor("\"payload\":\"d\""), "consume printed: \(consumeOut.value)")
        // The page is read while consume still runs (with --count it may already be gone).
        let page = readsPage ? try String(contentsOf: metricsURL, encoding: .utf8) : nil

        let result = await consuming.value
        #expect(result.status == 0, "consume failed: \(result.err)")
        let objects = try result.out.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(objects.compactMap { $0["payload"] as? String } == ["a", "b", "c", "d"])
        #expect(objects.allSatisfy { $0["key"] as? String == "k1" })
        let headers = objects.compactMap { $0["headers"] as? [String: String] }
        #expect(headers.prefix(2).allSatisfy { $0["traceparent"] == trace.traceparent })
        #expect(result.err.contains("consumed 4 messages from \(topic)"))
        #expect(readsPage == (page != nil))
        if let page {
            let samples = try parsePrometheusText(page)
            let consumed = samples.filter { $0.key.hasPrefix("messaging_client_consumed_messages_total{") && $0.key.contains("messaging_system=\"\(system)\"") }
            #expect(consumed.values.reduce(0, +) >= 3, "page: \(page)")
            let latency = samples.filter { $0.key.hasPrefix("messaging_process_duration_seconds_count{") }
            #expect(latency.values.reduce(0, +) >= 3)
        }
    }
}
