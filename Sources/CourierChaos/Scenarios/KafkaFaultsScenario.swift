import Foundation

/// 3. Kafka mock brokers taken down and up, request-error stacks and leader moves during a run. The
/// producer has Kafka and its spool; the consumer reads the one Kafka topic as a group.
struct KafkaFaultsScenario: ChaosScenario {
    let number = 3
    let title = "Kafka mock cluster: brokers down and up, request errors, leader moves"
    let usesRabbitMQ = false
    let primaryTransport: String? = "kafka"

    func run(_ run: ScenarioRun) async throws {
        let short = run.size == .short
        let count = short ? 25_000 : 40_000  // the fault script takes about 20 s; the run outlasts it
        let rate = 1_000
        let cluster = try await run.startKafka(brokers: 3)
        let kafka = try await run.kafkaSpec()
        try await run.startConsumer(transports: [kafka])
        let producer = try await run.startProducer(transports: [kafka], count: count, rate: rate, prefix: "s3")
        let topic = run.topic
        await run.note("\(count) messages offered at \(rate)/s; 3 mock brokers, topic with 3 partitions; Kafka (message.timeout.ms=\(ScenarioRun.kafkaMessageTimeoutMilliseconds)), then the spool")
        await run.note("the short message timeout that keeps failover near 1 s also fails publishes that only needed a metadata refresh and a retry inside librdkafka (NOT_LEADER_FOR_PARTITION): the request errors alone can open the breaker and send the producer to its spool")
        try await run.waitUntilConsuming(from: "kafka")
        try await inject(run, "Produce request errors: 20 × NOT_LEADER_FOR_PARTITION", lasting: .seconds(2)) {
            cluster.command("errors Produce 20 NOT_LEADER_FOR_PARTITION")
        } undo: {}
        try await inject(run, "Fetch request errors: 20 × TRANSPORT (consumer disconnects)", lasting: .seconds(2)) {
            cluster.command("errors Fetch 20 TRANSPORT")
        } undo: {}
        try await inject(run, "leader moves: partitions 0, 1, 2 to brokers 2, 3, 1", lasting: .seconds(2)) {
            cluster.command("leader \(topic) 0 2")
            cluster.command("leader \(topic) 1 3")
            cluster.command("leader \(topic) 2 1")
        } undo: {}
        try await inject(run, "broker 1 down", lasting: .seconds(3)) { cluster.command("broker down 1") } undo: { cluster.command("broker up 1") }
        try await inject(run, "every broker down", lasting: .seconds(4), takesPrimaryDown: true) {
            cluster.allBrokers(up: false)
        } undo: {
            cluster.allBrokers(up: true)
        }
        try await run.waitForProducer(producer, deadline: .seconds(600))
        try await run.waitForConsumption()
    }

    private func inject(
        _ run: ScenarioRun, _ kind: String, lasting duration: Duration, takesPrimaryDown: Bool = false,
        _ fault: @Sendable () -> Void, undo: @Sendable () -> Void
    ) async throws {
        let start = WallClock.milliseconds()
        fault()
        await pause(duration)
        undo()
        await run.recordFault("\(kind), \(duration)", start: start, end: WallClock.milliseconds(), takesPrimaryDown: takesPrimaryDown)
        await pause(.seconds(1))
    }
}
