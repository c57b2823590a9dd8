import Synchronization

/// The built-in ``CourierMetricsFactory``: keeps every metric in atomics and renders them in the
/// Prometheus text format (``prometheusText()``), which ``MetricsHTTPServer`` serves.
///
/// Asking twice for the same label and dimensions returns the same handler, so several producers and
/// consumers in one process add up. The lock here is taken when a handler is made and when the page is
/// rendered, never per message.
public final class MetricsRegistry: CourierMetricsFactory {
    enum Kind: String { case counter, gauge, histogram }

    struct Key: Hashable {
        let label: String
        let dimensions: [LabelPair]
    }

    struct LabelPair: Hashable {
        let name: String
        let value: String
    }

    enum Handler {
        case counter(AtomicCounter)
        case gauge(AtomicGauge)
        case histogram(AtomicHistogram)

        var kind: Kind {
            switch self {
            case .counter: .counter
            case .gauge: .gauge
            case .histogram: .histogram
            }
        }
    }

    private struct Entry {
        let key: Key
        let handler: Handler
    }

    private struct State {
        var entries: [Entry] = []
        var index: [Key: Int] = [:]
    }

    private let state = Mutex(State())
    private let histogramBounds: [Double]

    public init(histogramBounds: [Double] = AtomicHistogram.defaultBounds) {
        self.histogramBounds = histogramBounds
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        counter(label, dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        gauge(label, dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        histogram(label, dimensions)
    }

    /// The counter for `label` and `dimensions`, made on first use.
    public func counter(_ label: String, _ dimensions: [(String, String)] = []) -> AtomicCounter {
        guard case .counter(let counter) = handler(label, dimensions, make: { .counter(AtomicCounter()) }) else {
            return AtomicCounter()  // The label is already a metric of another kind: count into a detached handler.
        }
        return counter
    }

    /// The gauge for `label` and `dimensions`, made on first use.
    public func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> AtomicGauge {
        guard case .gauge(let gauge) = handler(label, dimensions, make: { .gauge(AtomicGauge()) }) else { return AtomicGauge() }
        return gauge
    }

    /// The histogram for `label` and `dimensions`, made on first use.
    public func histogram(_ label: String, _ dimensions: [(String, String)] = []) -> AtomicHistogram {
        let bounds = histogramBounds
        guard case .histogram(let histogram) = handler(label, dimensions, make: { .histogram(AtomicHistogram(bounds: bounds)) }) else {
            return AtomicHistogram(bounds: bounds)
        }
        return histogram
    }

    /// A counter's current value, or nil when nothing made it (for tests and tools).
    public func counterValue(_ label: String, _ dimensions: [(String, String)] = []) -> Int64? {
        guard case .counter(let counter) = existing(label, dimensions) else { return nil }
        return counter.value
    }

    /// A gauge's current value, or nil when nothing made it.
    public func gaugeValue(_ label: String, _ dimensions: [(String, String)] = []) -> Double? {
        guard case .gauge(let gauge) = existing(label, dimensions) else { return nil }
        return gauge.value
    }

    /// The sum of a counter over every label set that includes `matching` (for tests and summaries).
    public func counterTotal(_ label: String, matching: [(String, String)] = []) -> Int64 {
        let wanted = matching.map { LabelPair(name: $0.0, value: Redaction.scrub($0.1)) }
        return state.withLock { state in
            state.entries.reduce(into: Int64(0)) { total, entry in
                guard entry.key.label == label, wanted.allSatisfy(entry.key.dimensions.contains), case .counter(let counter) = entry.handler else { return }
                total += counter.value
            }
        }
    }

    /// The page Prometheus scrapes (text format 0.0.4).
    public func prometheusText() -> String {
        let entries = state.withLock { $0.entries }
        return PrometheusTextFormat.render(entries.map { ($0.key, $0.handler) })
    }

    // Label values are scrubbed of secrets before they become part of a metric.
    private static func key(_ label: String, _ dimensions: [(String, String)]) -> Key {
        Key(label: label, dimensions: dimensions.map { LabelPair(name: $0.0, value: Redaction.scrub($0.1)) })
    }

    private func existing(_ label: String, _ dimensions: [(String, String)]) -> Handler? {
        let key = Self.key(label, dimensions)
        return state.withLock { state in state.index[key].map { state.entries[$0].handler } }
    }

    private func handler(_ label: String, _ dimensions: [(String, String)], make: () -> Handler) -> Handler {
        let key = Self.key(label, dimensions)
        return state.withLock { state in
            if let position = state.index[key] { return state.entries[position].handler }
            let handler = make()
            // One family has one kind: a clash would make the page unparsable, so the newcomer stays detached.
            if state.entries.contains(where: { $0.key.label == label && $0.handler.kind != handler.kind }) { return handler }
            state.index[key] = state.entries.count
            state.entries.append(Entry(key: key, handler: handler))
            return handler
        }
    }
}
