import Courier
import CourierMemory
import CourierSQLite
import Foundation

/// Producer rounds on memory transports, from the bare transport up to the full pipeline one stage at a time;
/// each returns wall nanoseconds per message.
struct ProducerBenchmark {
    let messages: Int
    let payload: [UInt8]

    private func broker(_ name: String) -> MemoryBroker {
        MemoryBroker(name: name, options: MemoryBrokerOptions(capacity: messages + 1))
    }

    /// The bare transport publishing one envelope built before the clock starts: the floor.
    func bareTransportReusedEnvelope() async throws -> Double {
        let transport = MemoryTransport(broker: broker("bare"))
        try await transport.start()
        let envelope = Envelope(topic: "bench", payload: payload, id: "m-0")
        let elapsed = try await nanosecondsPerMessage(messages) {
            for _ in 0..<messages { _ = try await transport.publish(envelope) }
        }
        await transport.shutdown()
        return elapsed
    }

    /// The bare transport with a new envelope (id, timestamp, payload copy) per message.
    func bareTransport() async throws -> Double {
        let transport = MemoryTransport(broker: broker("bare"))
        try await transport.start()
        let elapsed = try await nanosecondsPerMessage(messages) {
            for index in 0..<messages {
                _ = try await transport.publish(Envelope(topic: "bench", payload: payload, id: "m-\(index)"))
            }
        }
        await transport.shutdown()
        return elapsed
    }

    /// A ``Producer`` (validation, breaker per transport, statistics) over `transportCount` memory transports
    /// in failover order; `retry` arms the default retry policy and budget (else ``RetryPolicy/never``);
    /// `spool` arms a SQLite spool that stays unused while the first transport takes everything.
    func producer(transportCount: Int, retry: Bool, spool armSpool: Bool) async throws -> Double {
        let transports = (0..<transportCount).map { MemoryTransport(broker: broker("t\($0)"), name: "t\($0)") }
        for transport in transports { try await transport.start() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("courier-bench-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let spool: SQLiteSpool? = armSpool ? try await SQLiteSpool.open(path: path) : nil
        var configuration = ProducerConfiguration()
        if !retry { configuration.retry = .never }
        let producer = Producer(transports: transports, configuration: configuration, spool: spool)
        let elapsed = try await nanosecondsPerMessage(messages) {
            for index in 0..<messages {
                _ = try await producer.publish(Envelope(topic: "bench", payload: payload, id: "m-\(index)"))
            }
        }
        guard producer.statistics.confirmed == messages else {
            throw CourierError(.fatal, "the pipeline confirmed \(producer.statistics.confirmed) of \(messages) messages; the benchmark is void")
        }
        await spool?.close()
        for transport in transports { await transport.shutdown() }
        return elapsed
    }

    /// The full pipeline: two transports in failover order, retry policy and budget, SQLite spool armed.
    func pipeline() async throws -> Double {
        try await producer(transportCount: 2, retry: true, spool: true)
    }

    /// The ladder `courier bench producer` reports; each row adds one stage to the row before.
    var stages: [BenchContender] {
        [
            BenchContender(name: "memory transport, one reused envelope") { try await bareTransportReusedEnvelope() },
            BenchContender(name: "+ new envelope per message") { try await bareTransport() },
            BenchContender(name: "+ producer (validation, breaker)") { try await producer(transportCount: 1, retry: false, spool: false) },
            BenchContender(name: "+ retry policy and budget") { try await producer(transportCount: 1, retry: true, spool: false) },
            BenchContender(name: "+ failover router (2 transports)") { try await producer(transportCount: 2, retry: true, spool: false) },
            BenchContender(name: "+ SQLite spool armed (full pipeline)") { try await pipeline() },
        ]
    }
}
