/// A counter's backing store, shaped like swift-metrics' `CounterHandler`.
public protocol CounterHandler: AnyObject, Sendable {
    func increment(by amount: Int64)
    func reset()
}

/// A gauge's backing store (the last value set, or a value moved up and down), shaped like swift-metrics'
/// `RecorderHandler` without aggregation.
public protocol RecorderHandler: AnyObject, Sendable {
    func record(_ value: Int64)
    func record(_ value: Double)
}

/// A latency histogram's backing store, shaped like swift-metrics' `TimerHandler`.
public protocol TimerHandler: AnyObject, Sendable {
    func recordNanoseconds(_ duration: Int64)
}

/// Makes metric handlers, shaped like swift-metrics' `MetricsFactory` so a few lines bridge Courier to
/// any metrics backend (swift-metrics itself, StatsD, OpenTelemetry).
///
/// Courier asks for each handler once per label set (per transport and topic) and keeps it, so a
/// factory's lookups never sit on the per-message path. Labels use OpenTelemetry's dotted names
/// (`messaging.client.sent.messages`, `messaging.destination.name`); ``MetricsRegistry`` turns them into
/// Prometheus names. ``MetricsRegistry`` is the built-in factory.
public protocol CourierMetricsFactory: Sendable {
    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler
    /// `aggregate` is false for gauges, as in swift-metrics.
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler
}

extension TimerHandler {
    /// Records `duration`, to the nanosecond.
    public func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000)
    }
}
