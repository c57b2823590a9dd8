/// What a producer or consumer reports to: metrics, reliability events, trace propagation and logs.
/// Make one per application and hand it to every ``Producer`` and ``Consumer``:
///
/// ```swift
/// let observability = Observability()
/// let producer = Producer(transports: transports, observability: observability)
/// let server = try MetricsHTTPServer(port: 9464, metrics: observability.registry)
/// ```
public final class Observability: Sendable {
    /// Where counters, gauges and timers go. ``registry`` when it is the built-in one.
    public let metrics: any CourierMetricsFactory
    /// The built-in registry, whose Prometheus page ``MetricsHTTPServer`` serves; nil when `metrics` is
    /// another backend.
    public let registry: MetricsRegistry?
    public let events: ReliabilityEvents
    public let tracing: any TracingInstrument
    /// Every line goes through ``RedactingLogger``, so secrets in URLs never reach the log.
    public let logger: any CourierLogger

    /// Built-in Prometheus registry, W3C propagation, and `logger` (silent by default).
    public convenience init(logger: any CourierLogger = SilentLogger()) {
        self.init(registry: MetricsRegistry(), tracing: W3CTraceContextInstrument(), logger: logger)
    }

    /// Metrics bridged to another backend through `metrics`.
    public convenience init(metrics: any CourierMetricsFactory, tracing: any TracingInstrument = W3CTraceContextInstrument(), logger: any CourierLogger = SilentLogger()) {
        self.init(factory: metrics, registry: metrics as? MetricsRegistry, tracing: tracing, logger: logger)
    }

    public convenience init(registry: MetricsRegistry, tracing: any TracingInstrument, logger: any CourierLogger) {
        self.init(factory: registry, registry: registry, tracing: tracing, logger: logger)
    }

    private init(factory: any CourierMetricsFactory, registry: MetricsRegistry?, tracing: any TracingInstrument, logger: any CourierLogger) {
        metrics = factory
        self.registry = registry
        self.tracing = tracing
        self.logger = RedactingLogger(logger)
        events = ReliabilityEvents(metrics: factory)
    }
}

/// Scrubs secrets (``Redaction``) from every message and metadata value before passing the line on.
public struct RedactingLogger: CourierLogger {
    public let base: any CourierLogger

    public init(_ base: any CourierLogger) {
        self.base = (base as? RedactingLogger)?.base ?? base
    }

    public func log(level: LogLevel, _ message: String, metadata: [String: String]) {
        base.log(level: level, Redaction.scrub(message), metadata: metadata.mapValues(Redaction.scrub))
    }
}
