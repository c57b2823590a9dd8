/// The outcome of one scenario against one transport.
public struct ScenarioResult: Sendable {
    /// Passed, failed with the reasons, or skipped with the reason.
    public enum Outcome: Sendable, Hashable {
        /// Every check held.
        case passed
        /// One or more checks failed; each reason says what and names the messages.
        case failed(reasons: [String])
        /// Not run: the transport lacks a capability or the options lack a hook.
        case skipped(reason: String)
    }

    /// Which scenario.
    public let scenario: ConformanceScenario
    /// Passed, failed or skipped.
    public let outcome: Outcome
    /// Messages the scenario tried to publish.
    public let attempted: Int
    /// Messages the transport confirmed.
    public let confirmed: Int
    /// Distinct messages the subscribers acknowledged (processed).
    public let received: Int
    /// Confirmed ids that never arrived, sorted.
    public let missing: [String]
    /// Ids that arrived although they were never published (to that topic or group), sorted.
    public let extra: [String]
    /// Messages received although their publish ended with an unknown outcome and was not confirmed.
    public let recovered: Int
    /// Deliveries of an already processed message (a failure only where the transport claims exactly-once).
    public let duplicates: Int
    /// Observations that are not failures (retries, resubscriptions, error messages seen, distributions).
    public let notes: [String]
    /// Wall time the scenario took (zero when skipped).
    public let duration: Duration

    /// The scenario's title.
    public var name: String { scenario.title }
    /// Whether it passed.
    public var isPassed: Bool { outcome == .passed }
    /// Whether it failed.
    public var isFailed: Bool { if case .failed = outcome { true } else { false } }
    /// Whether it was skipped.
    public var isSkipped: Bool { if case .skipped = outcome { true } else { false } }

    /// Why it failed or was skipped; `nil` when it passed.
    public var reason: String? {
        switch outcome {
        case .passed: nil
        case .failed(let reasons): reasons.joined(separator: "; ")
        case .skipped(let reason): reason
        }
    }

    /// `passed`, `FAILED` or `skipped`.
    public var status: String {
        switch outcome {
        case .passed: "passed"
        case .failed: "FAILED"
        case .skipped: "skipped"
        }
    }

    static func skipped(_ scenario: ConformanceScenario, reason: String) -> ScenarioResult {
        ScenarioResult(
            scenario: scenario, outcome: .skipped(reason: reason), attempted: 0, confirmed: 0, received: 0,
            missing: [], extra: [], recovered: 0, duplicates: 0, notes: [], duration: .zero
        )
    }
}
