import Courier
import Dispatch
import Synchronization

/// Latency at a fixed publish rate below saturation, through the full producer and consumer pipelines on one
/// transport: confirmed publish (the producer's `publish` call returning) and end to end (publish call to the
/// handler running). One warm-up round, then `runs` rounds; each round's p50 and p99 are reported as spreads.
struct LatencyBenchmark {
    let transport: any Transport
    let topic: String
    let rate: Int
    let messages: Int
    let runs: Int
    let payload: [UInt8]
    let prefetch: Int
    let progress: BenchProgress

    static let sentHeader = "bench-sent-ns"
    static let roundHeader = "bench-round"

    func run(transportDescription: String) async throws -> LatencyReport {
        try await transport.start()
        let arrivals = LatencyArrivals()
        let consumer = try Consumer(
            transports: [transport],
            configuration: ConsumerConfiguration(topic: topic, group: "courier-bench-latency", prefetch: prefetch)
        ) { message in arrivals.record(message.envelope) }
        let producer = Producer(transports: [transport])
        let running = Task { await consumer.run() }
        do {
            try await waitUntilSubscribed(producer, arrivals)
            var publish: [[Double]] = []
            var endToEnd: [[Double]] = []
            for round in 0...runs {
                let name = round == 0 ? "warm-up" : "round \(round)/\(runs)"
                progress.update("latency \(transportDescription) at \(rate) msg/s: \(name)")
                let published = try await publishRound(round, producer)
                let delivered = try await arrivals.wait(round: round, count: messages, timeout: .seconds(30 + messages / max(1, rate)))
                if round > 0 {
                    publish.append(published)
                    endToEnd.append(delivered)
                }
            }
            progress.finish()
            await stop(consumer, running, producer)
            return LatencyReport(
                transport: transportDescription, rate: rate, messages: messages, runs: runs, payloadBytes: payload.count,
                publishP50: Spread(publish.map { percentile($0, 0.5) }), publishP99: Spread(publish.map { percentile($0, 0.99) }),
                endToEndP50: Spread(endToEnd.map { percentile($0, 0.5) }), endToEndP99: Spread(endToEnd.map { percentile($0, 0.99) })
            )
        } catch {
            progress.finish()
            await stop(consumer, running, producer)
            throw error
        }
    }

    private func stop(_ consumer: Consumer, _ running: Task<Void, Never>, _ producer: Producer) async {
        await consumer.shutdown()
        await running.value
        await producer.shutdown()
        await transport.shutdown()
    }

    /// Publishes a probe every 100 ms until one reaches the handler: a Kafka group join or an AMQP queue
    /// declaration must not count as latency. Probes that fail before the subscription exists are expected.
    private func waitUntilSubscribed(_ producer: Producer, _ arrivals: LatencyArrivals) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        var probes = 0
        while arrivals.count(round: -1) == 0 {
            guard clock.now < deadline else {
                throw CourierError(.fatal, "no probe message reached the consumer within 60 s; is the broker up and the topic there?")
            }
            progress.update("latency: waiting for the consumer to subscribe")
            probes += 1
            _ = try? await producer.publish(envelope(round: -1, index: probes))
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func envelope(round: Int, index: Int) -> Envelope {
        Envelope(
            topic: topic, payload: payload, id: "latency-\(round)-\(index)-\(Envelope.makeID())",
            headers: [Self.sentHeader: String(DispatchTime.now().uptimeNanoseconds), Self.roundHeader: String(round)]
        )
    }

    /// Starts one publish every 1/rate seconds, each in its own task so a slow confirm does not hold back the
    /// schedule; returns each publish's confirm latency in nanoseconds.
    private func publishRound(_ round: Int, _ producer: Producer) async throws -> [Double] {
        let clock = ContinuousClock()
        let interval = Duration.nanoseconds(1_000_000_000 / max(1, rate))
        let start = clock.now
        return try await withThrowingTaskGroup(of: Double.self) { group in
            for index in 0..<messages {
                try await clock.sleep(until: start + interval * index, tolerance: .zero)
                let envelope = envelope(round: round, index: index)
                group.addTask {
                    let sent = DispatchTime.now().uptimeNanoseconds
                    _ = try await producer.publish(envelope)
                    return Double(DispatchTime.now().uptimeNanoseconds - sent)
                }
            }
            var latencies: [Double] = []
            latencies.reserveCapacity(messages)
            for try await latency in group { latencies.append(latency) }
            return latencies
        }
    }
}

/// End-to-end latencies as the handler sees messages, per round.
final class LatencyArrivals: Sendable {
    private let rounds = Mutex<[Int: [Double]]>([:])

    func record(_ envelope: Envelope) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard let round = envelope.headers[LatencyBenchmark.roundHeader].flatMap({ Int($0) }),
            let sent = envelope.headers[LatencyBenchmark.sentHeader].flatMap({ UInt64($0) })
        else { return }
        rounds.withLock { $0[round, default: []].append(Double(now &- sent)) }
    }

    func count(round: Int) -> Int { rounds.withLock { $0[round]?.count ?? 0 } }

    /// The round's latencies once `count` arrived; throws when they do not within `timeout`.
    func wait(round: Int, count: Int, timeout: Duration) async throws -> [Double] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while self.count(round: round) < count {
            guard clock.now < deadline else {
                throw CourierError(.fatal, "round \(round): \(self.count(round: round)) of \(count) messages reached the handler within \(timeout); the benchmark is void")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return rounds.withLock { $0[round] ?? [] }
    }
}

/// Latency percentiles in nanoseconds (spreads over the rounds of each round's percentile).
struct LatencyReport: Codable, Sendable {
    var scenario = "latency"
    let transport: String
    let rate: Int
    let messages: Int
    let runs: Int
    let payloadBytes: Int
    let publishP50: Spread
    let publishP99: Spread
    let endToEndP50: Spread
    let endToEndP99: Spread

    func lines() -> [String] {
        func us(_ spread: Spread) -> String {
            String(format: "%.0f µs (%.0f-%.0f)", spread.median / 1000, spread.min / 1000, spread.max / 1000)
        }
        return [
            "courier bench latency on \(transport): \(messages) messages at \(rate) msg/s x \(runs) rounds (after one warm-up), \(payloadBytes)-byte payloads",
            "confirmed publish   p50 \(us(publishP50))   p99 \(us(publishP99))",
            "end to end          p50 \(us(endToEndP50))   p99 \(us(endToEndP99))",
        ]
    }

    func json() -> String { encodeBenchJSON(self) }
}
