import Foundation

/// 6. The consumer process killed with SIGKILL mid-batch, several times: unacked messages come again,
/// the idempotency store (committed with each effect) keeps every effect exactly once.
struct ConsumerCrashScenario: ChaosScenario {
    let number = 6
    let title = "Consumer process SIGKILLed mid-batch; redelivery plus deduplication"
    let usesRabbitMQ = true
    let primaryTransport: String? = nil

    func run(_ run: ScenarioRun) async throws {
        let short = run.size == .short
        let count = short ? 3_000 : 20_000
        let rabbit = await run.rabbitMQSpec()
        let consumerSettings = (concurrency: 8, prefetch: 64, work: 2)
        var consumer = try await run.startConsumer(
            transports: [rabbit], concurrency: consumerSettings.concurrency, prefetch: consumerSettings.prefetch, workMilliseconds: consumerSettings.work
        )
        let producer = try await run.startProducer(transports: [rabbit], count: count, rate: 0, prefix: "s6")
        await run.note("\(count) messages published as fast as possible; consumer: 8 handlers, prefetch 64, 2 ms of work per message, idempotency lease 3 s")
        for fraction in [0.25, 0.5, 0.75] {
            let target = Int(Double(count) * fraction)
            let giveUp = ContinuousClock.now + .seconds(300)
            while try await run.consumedCount() < target {
                guard ContinuousClock.now < giveUp else { throw ChaosError("consumption never reached \(target)") }
                try await Task.sleep(for: .milliseconds(20))
            }
            let start = WallClock.milliseconds()
            await consumer.crash()
            await pause(.milliseconds(500))
            consumer = try await run.startConsumer(
                transports: [rabbit], concurrency: consumerSettings.concurrency, prefetch: consumerSettings.prefetch, workMilliseconds: consumerSettings.work
            )
            await run.recordFault("consumer SIGKILL at \(Int(fraction * 100)) % consumed, restarted 0.5 s later", start: start, end: WallClock.milliseconds(), takesPrimaryDown: false)
        }
        try await run.waitForProducer(producer, deadline: .seconds(600))
        try await run.waitForConsumption()
    }
}
