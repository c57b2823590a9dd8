import Foundation

/// 5. Every transport down: messages go to the spool; the producer process is killed with SIGKILL
/// while the spool holds messages; the brokers come back; a new producer process drains the spool.
struct SpoolCrashScenario: ChaosScenario {
    let number = 5
    let title = "Every transport down, producer SIGKILLed with a full spool, restarted, spool drained"
    let usesRabbitMQ = true
    let primaryTransport: String? = "kafka"

    func run(_ run: ScenarioRun) async throws {
        let short = run.size == .short
        let count = short ? 10_000 : 40_000
        let rate = short ? 1_000 : 2_000
        let cluster = try await run.startKafka(brokers: 3)
        let transports = [try await run.kafkaSpec(), await run.rabbitMQSpec()]
        try await run.startConsumer(transports: transports)
        let first = try await run.startProducer(transports: transports, count: count, rate: rate, prefix: "s5a")
        await run.note("first producer: \(count) messages offered at \(rate)/s over Kafka, RabbitMQ, spool; SIGKILLed once its spool held messages; second producer: \(count / 4) more messages and the first one's spool")
        try await run.waitUntilConsuming(from: "kafka")
        await pause(short ? .seconds(1) : .seconds(3))
        let down = WallClock.milliseconds()
        cluster.allBrokers(up: false)
        try await run.rabbitMQ.kill()
        let minimumBacklog = short ? 300 : 2_000
        let giveUp = ContinuousClock.now + .seconds(120)
        while try await run.spoolBacklog() < minimumBacklog {
            guard await run.isRunning(first), ContinuousClock.now < giveUp else {
                throw ChaosError("the spool never held \(minimumBacklog) messages while every transport was down")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let backlog = try await run.spoolBacklog()
        let killed = WallClock.milliseconds()
        await first.crash()
        await run.recordFault("producer process SIGKILL with \(backlog) messages in its spool", start: killed, end: nil, takesPrimaryDown: false)
        await run.note("the spool held \(backlog) messages (by the ledger) when the first producer was killed")
        cluster.allBrokers(up: true)
        try await run.rabbitMQ.start()
        await run.recordFault("every transport down: Kafka brokers down + RabbitMQ SIGKILL, then both back", start: down, end: WallClock.milliseconds(), takesPrimaryDown: true)
        let second = try await run.startProducer(transports: transports, count: count / 4, rate: rate, prefix: "s5b")
        try await run.waitForProducer(second, deadline: .seconds(600))
        try await run.waitForConsumption()
    }
}
