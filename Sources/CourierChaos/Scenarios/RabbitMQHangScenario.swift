import Foundation

/// 2. RabbitMQ hung with SIGSTOP for longer than two heartbeat intervals, then resumed with SIGCONT:
/// the sockets stay open, so only heartbeats (2 s here) or the producer's attempt timeout notice.
struct RabbitMQHangScenario: ChaosScenario {
    let number = 2
    let title = "RabbitMQ hung with SIGSTOP for more than two heartbeat intervals, then resumed"
    let usesRabbitMQ = true
    let primaryTransport: String? = "rabbitmq"
    static let heartbeatSeconds = 2

    func run(_ run: ScenarioRun) async throws {
        let short = run.size == .short
        let count = short ? 3_000 : 30_000
        let rate = 1_000
        let hangs = short ? 1 : 2
        let hang = Duration.seconds(3 * Self.heartbeatSeconds)
        let rabbit = await run.rabbitMQSpec(heartbeat: Self.heartbeatSeconds)
        try await run.startConsumer(transports: [rabbit])
        let producer = try await run.startProducer(transports: [rabbit], count: count, rate: rate, prefix: "s2")
        await run.note("\(count) messages offered at \(rate)/s; heartbeat \(Self.heartbeatSeconds) s, each hang \(hang) (3 intervals); RabbitMQ, then the spool")
        await run.note("a hung broker keeps its sockets open, so no error arrives until the transport misses two heartbeats (about \(2 * Self.heartbeatSeconds) s); the producer's attempt timeout (\(ProduceWorker.attemptTimeout)) leaves it sooner")
        for _ in 0..<hangs {
            await pause(short ? .seconds(1) : .seconds(6))
            guard await run.isRunning(producer) else { break }
            let start = WallClock.milliseconds()
            try run.rabbitMQ.hang()
            await pause(hang)
            try run.rabbitMQ.resume()
            await run.recordFault("RabbitMQ SIGSTOP for \(hang), then SIGCONT", start: start, end: WallClock.milliseconds(), takesPrimaryDown: true)
        }
        try await run.waitForProducer(producer, deadline: .seconds(600))
        try await run.waitForConsumption()
    }
}
