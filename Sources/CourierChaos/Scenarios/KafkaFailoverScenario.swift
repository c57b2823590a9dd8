import Foundation

/// 4. Failover Kafka → RabbitMQ while every Kafka broker is down, and failback afterwards. One consumer
/// group reads both transports; the idempotency store removes the twins an unknown outcome creates.
struct KafkaFailoverScenario: ChaosScenario {
    let number = 4
    let title = "Failover Kafka → RabbitMQ while Kafka is down, failback after; one group on both"
    let usesRabbitMQ = true
    let primaryTransport: String? = "kafka"

    func run(_ run: ScenarioRun) async throws {
        let short = run.size == .short
        let count = short ? 12_000 : 40_000
        let rate = 1_000
        let outages = short ? 1 : 3
        let outage = Duration.seconds(5)
        let cluster = try await run.startKafka(brokers: 3)
        let transports = [try await run.kafkaSpec(), await run.rabbitMQSpec()]
        try await run.startConsumer(transports: transports)
        let producer = try await run.startProducer(transports: transports, count: count, rate: rate, prefix: "s4")
        await run.note("\(count) messages offered at \(rate)/s; Kafka (3 mock brokers, message.timeout.ms=\(ScenarioRun.kafkaMessageTimeoutMilliseconds)) preferred, RabbitMQ fallback, then the spool; default breaker (opens after 5 calls at 50 % failures, half-open after 2 s)")
        try await run.waitUntilConsuming(from: "kafka")
        for _ in 0..<outages {
            await pause(short ? .seconds(1) : .seconds(4))
            guard await run.isRunning(producer) else { break }
            let start = WallClock.milliseconds()
            cluster.allBrokers(up: false)
            await pause(outage)
            cluster.allBrokers(up: true)
            await run.recordFault("every Kafka broker down for \(outage)", start: start, end: WallClock.milliseconds(), takesPrimaryDown: true)
        }
        try await run.waitForProducer(producer, deadline: .seconds(600))
        try await run.waitForConsumption()
    }
}
