import Synchronization

/// The producer's handlers for one topic on every transport, resolved once so a publish only touches atomics
/// (a class, so handing it around retains once rather than once per handler).
final class ProducerTopicInstruments: Sendable {
    let requests: any CounterHandler
    let spooled: any CounterHandler
    /// Indexed like the producer's transports.
    let sent: [any CounterHandler]
    let retries: [any CounterHandler]
    let failovers: [any CounterHandler]
    let drained: [any CounterHandler]
    let latency: [any TimerHandler]

    init(topic: String, transports: [any Transport], factory: any CourierMetricsFactory) {
        typealias M = MessagingMetrics
        let topicOnly = [(M.destination, topic)]
        requests = factory.makeCounter(label: M.publishRequests, dimensions: topicOnly)
        spooled = factory.makeCounter(label: M.spooled, dimensions: topicOnly)
        let labels = transports.map { transport in
            [(M.system, M.systemName(of: transport)), (M.transport, transport.name), (M.destination, topic), (M.operationType, "send")]
        }
        sent = labels.map { factory.makeCounter(label: M.sentMessages, dimensions: $0) }
        retries = labels.map { factory.makeCounter(label: M.publishRetries, dimensions: $0) }
        failovers = labels.map { factory.makeCounter(label: M.failovers, dimensions: $0) }
        drained = labels.map { factory.makeCounter(label: M.drained, dimensions: $0) }
        latency = labels.map { factory.makeTimer(label: M.operationDuration, dimensions: $0) }
    }
}

/// A producer's metrics: per-topic handler sets made on a topic's first publish, and the producer-wide gauges.
final class ProducerInstruments: Sendable {
    private let factory: any CourierMetricsFactory
    private let transports: [any Transport]
    private let topics = Mutex<[String: ProducerTopicInstruments]>([:])
    private let failures = Mutex<[String: any CounterHandler]>([:])
    let spoolDepth: any RecorderHandler
    let inFlight: InFlightGauge

    init(transports: [any Transport], factory: any CourierMetricsFactory) {
        self.factory = factory
        self.transports = transports
        spoolDepth = factory.makeRecorder(label: MessagingMetrics.spoolDepth, dimensions: [], aggregate: false)
        inFlight = InFlightGauge(factory.makeRecorder(label: MessagingMetrics.publishesInFlight, dimensions: [], aggregate: false))
    }

    /// The handlers of `topic`: one short lock per publish to find them (a producer publishes to any topic).
    func topic(_ topic: String) -> ProducerTopicInstruments {
        topics.withLock { topics in
            if let found = topics[topic] { return found }
            let made = ProducerTopicInstruments(topic: topic, transports: transports, factory: factory)
            topics[topic] = made
            return made
        }
    }

    func failed(topic: String, error: any Error) {
        let type = (error as? CourierError).map { "\($0.code)" } ?? String(describing: Swift.type(of: error))
        let key = topic + "\u{0}" + type
        let counter = failures.withLock { failures in
            if let found = failures[key] { return found }
            let made = factory.makeCounter(
                label: MessagingMetrics.publishFailures,
                dimensions: [(MessagingMetrics.destination, topic), (MessagingMetrics.errorType, type)]
            )
            failures[key] = made
            return made
        }
        counter.increment(by: 1)
    }

    func publishStarted() { inFlight.add(1) }

    func publishFinished() { inFlight.add(-1) }
}

/// The consumer's handlers for its topic and group on one transport, resolved when the consumer is made.
final class ConsumerInstruments: Sendable {
    let consumed: any CounterHandler
    let deduplicated: any CounterHandler
    let retries: any CounterHandler
    let redelivered: any CounterHandler
    let deadLettered: any CounterHandler
    let discarded: any CounterHandler
    let handlerLatency: any TimerHandler

    init(transport: any Transport, topic: String, group: String, factory: any CourierMetricsFactory) {
        typealias M = MessagingMetrics
        let labels = [
            (M.system, M.systemName(of: transport)), (M.transport, transport.name), (M.destination, topic),
            (M.consumerGroup, group), (M.operationType, "process"),
        ]
        consumed = factory.makeCounter(label: M.consumedMessages, dimensions: labels)
        deduplicated = factory.makeCounter(label: M.deduplicated, dimensions: labels)
        retries = factory.makeCounter(label: M.handlerRetries, dimensions: labels)
        redelivered = factory.makeCounter(label: M.redelivered, dimensions: labels)
        deadLettered = factory.makeCounter(label: M.deadLettered, dimensions: labels)
        discarded = factory.makeCounter(label: M.discarded, dimensions: labels)
        handlerLatency = factory.makeTimer(label: M.processDuration, dimensions: labels)
    }
}

/// Keeps a breaker's state gauge and transition counters current.
enum BreakerInstruments {
    static func attach(_ breaker: CircuitBreaker, factory: any CourierMetricsFactory) {
        typealias M = MessagingMetrics
        let gauge = factory.makeRecorder(label: M.breakerState, dimensions: [(M.breaker, breaker.name)], aggregate: false)
        gauge.record(M.gaugeValue(of: breaker.currentState))
        // Counters for every state the breaker can enter are made now, so a transition only increments.
        let states: [CircuitBreaker.State] = [.closed, .open, .halfOpen, .forcedOpen, .disabled]
        let counters = states.map { factory.makeCounter(label: M.breakerTransitions, dimensions: [(M.breaker, breaker.name), (M.state, "\($0)")]) }
        _ = breaker.onTransition { transition in
            gauge.record(M.gaugeValue(of: transition.to))
            if let index = states.firstIndex(of: transition.to) { counters[index].increment(by: 1) }
        }
    }
}

/// A consumer's metric handlers for each of its transports, its in-flight gauge and its trace propagation.
final class ObservedConsumer: Sendable {
    private let names: [String]
    private let perTransport: [ConsumerInstruments]
    let inFlight: InFlightGauge
    let tracing: any TracingInstrument

    init(transports: [any Transport], configuration: ConsumerConfiguration, observability: Observability) {
        names = transports.map(\.name)
        perTransport = transports.map {
            ConsumerInstruments(transport: $0, topic: configuration.topic, group: configuration.group, factory: observability.metrics)
        }
        inFlight = InFlightGauge(
            observability.metrics.makeRecorder(
                label: MessagingMetrics.inFlight,
                dimensions: [(MessagingMetrics.destination, configuration.topic), (MessagingMetrics.consumerGroup, configuration.group)],
                aggregate: false
            )
        )
        tracing = observability.tracing
    }

    /// The handlers of the transport named `transport`: a consumer has one to three, compared in order.
    func instruments(for transport: String) -> ConsumerInstruments? {
        if perTransport.count == 1 { return perTransport[0] }
        for index in names.indices where names[index] == transport { return perTransport[index] }
        return nil
    }
}

/// An up-down count. On the built-in registry it moves the gauge itself with one atomic add; on another
/// backend it keeps the count in an atomic and records each new value (a racing pair may record out of
/// order for a moment; the next change corrects it).
final class InFlightGauge: Sendable {
    private let count: AtomicGauge
    private let recorder: (any RecorderHandler)?

    init(_ recorder: any RecorderHandler) {
        if let gauge = recorder as? AtomicGauge {
            count = gauge
            self.recorder = nil
        } else {
            count = AtomicGauge()
            self.recorder = recorder
        }
        self.recorder?.record(Int64(0))
    }

    func add(_ delta: Int64) {
        count.add(delta)
        recorder?.record(count.value)
    }
}
