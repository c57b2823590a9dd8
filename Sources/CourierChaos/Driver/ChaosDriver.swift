import Foundation

/// Runs chaos scenarios one after another on this machine: brings up the brokers a scenario needs, runs
/// it, stops every process it started (on every path), and counts its ledger.
public struct ChaosDriver: Sendable {
    public let environment: ChaosEnvironment

    public init(environment: ChaosEnvironment) { self.environment = environment }

    /// The scenario numbers that exist (1...6).
    public static var scenarioNumbers: [Int] { ChaosScenarios.all.map(\.number) }

    /// Runs scenario `number` at `size` and returns its result (a driver failure is in the result).
    public func run(scenario number: Int, size: ChaosSize) async -> ScenarioResult {
        guard let scenario = ChaosScenarios.scenario(number) else {
            return ScenarioResult(
                number: number, title: "unknown scenario", size: size, counts: nil, faults: [], timings: nil,
                durationSeconds: 0, publishRate: 0, notes: [], driverError: "there is no scenario \(number); they are \(Self.scenarioNumbers)"
            )
        }
        let run: ScenarioRun
        do {
            run = try ScenarioRun(environment: environment, number: number, size: size)
        } catch {
            return ScenarioResult(
                number: number, title: scenario.title, size: size, counts: nil, faults: [], timings: nil,
                durationSeconds: 0, publishRate: 0, notes: [], driverError: "\(error)"
            )
        }
        var driverError: String?
        let began = ContinuousClock.now
        do {
            if scenario.usesRabbitMQ { try await run.rabbitMQ.start() }
            try await scenario.run(run)
        } catch {
            driverError = "\(error)"
        }
        let duration = (ContinuousClock.now - began).seconds
        if scenario.usesRabbitMQ { try? run.rabbitMQ.resume() }
        await run.tearDown()
        return await result(of: run, scenario: scenario, duration: duration, driverError: driverError)
    }

    /// Stops the RabbitMQ node the scenarios used.
    public func stopRabbitMQ() async {
        let node = RabbitMQNode(repositoryRoot: environment.repositoryRoot, port: environment.rabbitMQPort, logPath: environment.workDirectory + "/rabbitmq-stop.log")
        try? node.resume()
        try? await node.stop()
    }

    private func result(of run: ScenarioRun, scenario: any ChaosScenario, duration: Double, driverError: String?) async -> ScenarioResult {
        var driverError = driverError
        var counts: ChaosCounts?
        var timings: FailoverTimings?
        var rate = 0.0
        let faults = await run.faults
        let reader = LedgerReader(directory: run.directory)
        do {
            let snapshot = try reader.snapshot()
            counts = ChaosCounts(ledger: snapshot)
            rate = try reader.attemptRate()
            if let primary = scenario.primaryTransport {
                timings = FailoverTimings(faults: faults, timeline: try reader.timeline(), primary: primary)
            }
        } catch {
            driverError = [driverError, "reading the ledger failed: \(error)"].compactMap { $0 }.joined(separator: "; ")
        }
        var notes = await run.notes
        let relative = run.directory.hasPrefix(environment.repositoryRoot + "/") ? String(run.directory.dropFirst(environment.repositoryRoot.count + 1)) : run.directory
        notes.append("ledgers, spool and process logs: `\(relative)`")
        return ScenarioResult(
            number: scenario.number, title: scenario.title, size: run.size, counts: counts, faults: faults, timings: timings,
            durationSeconds: duration, publishRate: rate,
            notes: notes, driverError: driverError
        )
    }
}
