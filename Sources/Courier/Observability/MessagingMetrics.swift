/// The metric and label names Courier reports, following OpenTelemetry's messaging semantic conventions
/// where one exists (`messaging.*`, `error.type`) and `courier.*` for the reliability pipeline. Prometheus
/// names replace dots with underscores and add `_total` to counters and `_seconds` to timers. Listed with
/// their labels in docs/observability.md.
public enum MessagingMetrics {
    // Labels.
    public static let system = "messaging.system"
    public static let destination = "messaging.destination.name"
    public static let operationType = "messaging.operation.type"
    public static let consumerGroup = "messaging.consumer.group.name"
    public static let errorType = "error.type"
    public static let transport = "courier.transport"
    public static let breaker = "courier.breaker"
    public static let state = "courier.state"
    public static let reason = "courier.reason"

    // Producer.
    public static let publishRequests = "courier.publish.requests"
    public static let sentMessages = "messaging.client.sent.messages"
    public static let publishRetries = "courier.publish.retries"
    public static let failovers = "courier.failovers"
    public static let spooled = "courier.spooled.messages"
    public static let drained = "courier.drained.messages"
    public static let publishFailures = "courier.publish.failures"
    public static let operationDuration = "messaging.client.operation.duration"
    public static let spoolDepth = "courier.spool.depth"
    public static let publishesInFlight = "courier.publish.in_flight"

    // Consumer.
    public static let consumedMessages = "messaging.client.consumed.messages"
    public static let deduplicated = "courier.deduplicated.messages"
    public static let handlerRetries = "courier.handler.retries"
    public static let redelivered = "courier.redelivered.messages"
    public static let deadLettered = "courier.dead_lettered.messages"
    public static let discarded = "courier.discarded.messages"
    public static let processDuration = "messaging.process.duration"
    public static let inFlight = "courier.consume.in_flight"

    // Breakers and connections.
    public static let breakerState = "courier.circuit_breaker.state"
    public static let breakerTransitions = "courier.circuit_breaker.transitions"
    public static let recoveryAttempts = "courier.recovery.attempts"
    public static let recoveries = "courier.recoveries"

    /// One line of help per metric, for the Prometheus page.
    static let help: [String: String] = [
        publishRequests: "Calls to Producer.publish.",
        sentMessages: "Messages a broker confirmed (directly or relayed from the spool).",
        publishRetries: "Publish attempts retried on the same transport.",
        failovers: "Messages confirmed by a transport other than the first in the failover order.",
        spooled: "Messages put in the durable spool because no transport took them.",
        drained: "Spooled messages the relay had confirmed and removed from the spool.",
        publishFailures: "Publishes that threw, by error type.",
        operationDuration: "Publish-to-confirm latency of one successful transport publish.",
        spoolDepth: "Messages waiting in the durable spool.",
        publishesInFlight: "Publish calls that have not returned yet.",
        consumedMessages: "Messages handled successfully and settled.",
        deduplicated: "Deliveries dropped because their idempotency key was already done.",
        handlerRetries: "Immediate handler retries within one delivery.",
        redelivered: "Messages scheduled for a delayed redelivery.",
        deadLettered: "Messages sent to the dead-letter destination.",
        discarded: "Messages the recoverability policy discarded.",
        processDuration: "Handler latency, one observation per handler run.",
        inFlight: "Deliveries whose handler is running now.",
        breakerState: "Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 forced-open, 4 disabled.",
        breakerTransitions: "Circuit breaker transitions, by the state entered.",
        recoveryAttempts: "Connection recovery attempts that failed and were retried.",
        recoveries: "Connections recovered after a loss.",
    ]

    /// The `messaging.system` value for a transport: its URL scheme mapped to OpenTelemetry's names.
    public static func systemName(scheme: String) -> String {
        switch scheme.lowercased() {
        case "amqp", "amqps": "rabbitmq"
        case "kafka": "kafka"
        case "memory": "memory"
        default: scheme.lowercased()
        }
    }

    /// The breaker state as the gauge's number.
    public static func gaugeValue(of state: CircuitBreaker.State) -> Int64 {
        switch state {
        case .closed: 0
        case .open: 1
        case .halfOpen: 2
        case .forcedOpen: 3
        case .disabled: 4
        }
    }
}

extension MessagingMetrics {
    /// The `messaging.system` value for a transport: the scheme of its URL when its name is one, otherwise
    /// taken from its type (`KafkaTransport` is `kafka`, `AMQPTransport` is `rabbitmq`).
    public static func systemName(of transport: any Transport) -> String {
        if let schemeEnd = transport.name.range(of: "://") {
            return systemName(scheme: String(transport.name[..<schemeEnd.lowerBound]))
        }
        var type = String(describing: Swift.type(of: transport)).lowercased()
        if type.hasSuffix("transport") { type.removeLast("transport".count) }
        return systemName(scheme: type.isEmpty ? "unknown" : type)
    }
}
