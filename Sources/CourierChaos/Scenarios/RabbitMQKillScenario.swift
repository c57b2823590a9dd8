import Foundation

/// 1. RabbitMQ killed with SIGKILL and restarted several times while 100,000 messages go through.
/// The producer has RabbitMQ and its spool; while the broker is down, messages are spooled.
struct RabbitMQKillScenario: ChaosScenario {
    let number = 1
    let title = "RabbitMQ killed with SIGKILL and restarted during the run"
    let usesRabbitMQ = true
    let primaryTransport: String? = "rabbitmq"

    func run(_ run: ScenarioRun) async throws {
        let short = run.size == .short
        let count = short ? 3_000 : 100_000
        let rate = short ? 1_000 : 2_500
        let kills = short ? 1 : 3
        let rabbit = await run.rabbitMQSpec()
        try await run.startConsumer(transports: [rabbit])
        let producer = try await run.startProducer(transports: [rabbit], count: count, rate: rate, prefix: "s1")
        await run.note("\(count) messages offered at \(rate)/s by one producer process (8 publishers); RabbitMQ first, then the SQLite spool")
        for _ in 0..<kills {
            await pause(short ? .milliseconds(1_200) : .seconds(8))
            guard await run.isRunning(producer) else { break }
            let start = WallClock.milliseconds()
            try await run.rabbitMQ.kill()
            try await run.rabbitMQ.start()
            await run.recordFault("RabbitMQ SIGKILL, then restart (.ci/rabbitmq kill; start)", start: start, end: WallClock.milliseconds(), takesPrimaryDown: true)
        }
        try await run.waitForProducer(producer, deadline: .seconds(short ? 120 : 900))
        try await run.waitForConsumption()
    }
}
