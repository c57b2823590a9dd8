/// The outcome of one scenario: its counts, faults and timings, or the reason it could not run.
public struct ScenarioResult: Sendable, Codable {
    public var number: Int
    public var title: String
    public var size: ChaosSize
    public var counts: ChaosCounts?
    public var faults: [FaultRecord]
    public var timings: FailoverTimings?
    /// From the first producer's start to the last effect.
    public var durationSeconds: Double
    /// Messages attempted per second, from the first attempt to the last.
    public var publishRate: Double
    /// What a reader needs to know to judge the figures (settings, what was measured how).
    public var notes: [String]
    /// Set when the driver itself failed (a broker would not start, a process hung).
    public var driverError: String?

    /// Passed: the run completed, nothing lost, nothing unexpected, every effect exactly once.
    public var passed: Bool { driverError == nil && (counts?.passed ?? false) }

    /// Every reason the scenario did not pass.
    public var failureReasons: [String] {
        var reasons = counts?.failureReasons ?? []
        if let driverError { reasons.append("the run did not complete: \(driverError)") }
        return reasons
    }
}
