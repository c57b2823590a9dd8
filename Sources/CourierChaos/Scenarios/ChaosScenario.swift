/// One chaos scenario: the processes it runs and the faults it injects while they run.
protocol ChaosScenario: Sendable {
    var number: Int { get }
    var title: String { get }
    var usesRabbitMQ: Bool { get }
    /// The producer's preferred transport, when failover timings apply.
    var primaryTransport: String? { get }
    /// Runs producer, consumer and faults; returns once every confirmed message should be consumed.
    func run(_ run: ScenarioRun) async throws
}

/// Every scenario, by number.
enum ChaosScenarios {
    static let all: [any ChaosScenario] = [
        RabbitMQKillScenario(), RabbitMQHangScenario(), KafkaFaultsScenario(), KafkaFailoverScenario(),
        SpoolCrashScenario(), ConsumerCrashScenario(),
    ]

    static func scenario(_ number: Int) -> (any ChaosScenario)? { all.first { $0.number == number } }
}

/// Sleeps, ignoring cancellation (fault scripts pace themselves with it).
func pause(_ duration: Duration) async { try? await Task.sleep(for: duration) }
