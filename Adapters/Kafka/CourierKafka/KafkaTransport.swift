import Courier
import Synchronization

/// The `kafka://` transport: one idempotent librdkafka producer shared by every publish, and one
/// librdkafka consumer per subscription.
///
/// Publishes return once the delivery report says the message is stored with acks=all. Subscriptions
/// are consumer groups (a private group when none is named); an offset is stored only after its
/// delivery is settled and all earlier ones of its partition are too, so a crash redelivers instead of
/// losing. Requeue and delayed redelivery of a named group go through its retry topic (see
/// ``KafkaRetryTopic``).
public final class KafkaTransport: Transport {
    /// The configured name, or the redacted URL.
    public let name: String
    let properties: KafkaProperties
    let context: TransportContext
    let producer: KafkaProducer
    private let lifecycle = Mutex(Lifecycle())
    private let stopped = Latch()

    private struct Lifecycle {
        var phase = Phase.created
        var subscriptions: [ObjectIdentifier: KafkaSubscription] = [:]
    }

    private enum Phase { case created, started, stopped }

    init(name: String, properties: KafkaProperties, context: TransportContext) {
        self.name = name
        self.properties = properties
        self.context = context
        producer = KafkaProducer(name: name, properties: properties, logger: context.logger)
    }

    public var capabilities: TransportCapabilities { Self.capabilities(properties) }

    static func capabilities(_ properties: KafkaProperties) -> TransportCapabilities {
        TransportCapabilities(
            consumerGroups: true,
            orderingPerKey: true,
            persistence: true,
            nativeDelayedDelivery: false,
            nativeDeadLettering: false,
            priorities: false,
            exactlyOnceDelivery: false,
            maxMessageBytes: properties.maxMessageBytes
        )
    }

    public func start() async throws {
        let phase = lifecycle.withLock { $0.phase }
        switch phase {
        case .started: return
        case .stopped: throw CourierError.closed("\(name) was shut down; make a new transport", transport: name)
        case .created: break
        }
        try producer.start()
        lifecycle.withLock { if $0.phase == .created { $0.phase = .started } }
    }

    public func publish(_ envelope: Envelope) async throws -> PublishConfirmation {
        try await publish(contentsOf: [envelope])[0].get()
    }

    /// Enqueues the whole batch with librdkafka, then waits once for every delivery report of it (one
    /// wake-up for the batch, not one per message). Each outcome is classified as for ``publish(_:)``;
    /// a message that fails validation or whose topic cannot be made fails alone.
    public func publish(contentsOf envelopes: [Envelope]) async -> [Result<PublishConfirmation, CourierError>] {
        do {
            try requireStarted()
        } catch {
            return Array(repeating: .failure(error), count: envelopes.count)
        }
        // Envelopes are read in place through a buffer: copying each one out costs a dozen reference counts.
        // First validation, and the distinct topics of the valid ones in the order they come.
        var failures: [Int: CourierError] = [:]
        var topics: [String] = []
        envelopes.withUnsafeBufferPointer { envelopes in
            var seen: Set<String> = []
            var lastTopic: String?
            for index in envelopes.indices {
                do throws(CourierError) {
                    try envelopes[index].validate(maxPayloadBytes: properties.maxMessageBytes)
                } catch {
                    failures[index] = error.from(transport: name)
                    continue
                }
                guard envelopes[index].topic != lastTopic else { continue }
                lastTopic = envelopes[index].topic
                if seen.insert(envelopes[index].topic).inserted { topics.append(envelopes[index].topic) }
            }
        }
        // Topics are checked (name, existence) once per distinct topic, not once per message.
        var topicErrors: [String: CourierError] = [:]
        for topic in topics {
            do {
                try KafkaTopicName.validate(topic)
                try await producer.ensureTopic(topic)
            } catch {
                topicErrors[topic] = CourierError.wrapping(error, transport: name).from(transport: name)
            }
        }
        if !topicErrors.isEmpty {
            envelopes.withUnsafeBufferPointer { envelopes in
                for index in envelopes.indices where failures[index] == nil {
                    if let error = topicErrors[envelopes[index].topic] { failures[index] = error }
                }
            }
        }
        // What became of each envelope sent, in order; the usual case, every envelope sendable, passes the
        // caller's array as it is.
        let toSend = failures.isEmpty ? nil : envelopes.indices.filter { failures[$0] == nil }
        let sendCount = toSend?.count ?? envelopes.count
        var outcomes: [KafkaProducer.Outcome?] = []
        var start = 0
        while start < sendCount {
            let end = min(start + KafkaProducer.maxBatch, sendCount)
            if let toSend {
                outcomes += await producer.sendReturningOutcomes(toSend[start..<end].map { envelopes[$0] })
            } else if end - start == envelopes.count {
                outcomes = await producer.sendReturningOutcomes(envelopes)
            } else {
                outcomes += await producer.sendReturningOutcomes(envelopes[start..<end])
            }
            start = end
        }
        // The results in one pass: a batch's array of results is large, and each one made and freed
        // makes malloc consolidate its free lists.
        return envelopes.withUnsafeBufferPointer { envelopes in
            var results: [Result<PublishConfirmation, CourierError>] = []
            results.reserveCapacity(envelopes.count)
            var sent = 0
            for index in envelopes.indices {
                if !failures.isEmpty, let failure = failures[index] {
                    results.append(.failure(failure))
                    continue
                }
                results.append(confirmation(of: sent < outcomes.count ? outcomes[sent] : nil, for: envelopes[index]))
                sent += 1
            }
            return results
        }
    }

    /// An envelope's publish result from its outcome.
    private func confirmation(of outcome: KafkaProducer.Outcome?, for envelope: Envelope) -> Result<PublishConfirmation, CourierError> {
        switch producer.result(of: outcome, messageID: envelope.id, topic: envelope.topic) {
        case .success(let stored):
            return .success(PublishConfirmation(
                messageID: envelope.id, transport: name, topic: envelope.topic, partition: Int(stored.partition), offset: stored.offset
            ))
        case .failure(let error):
            // The topic went away since it was checked: check (or create) it again next time.
            if error.code == .unroutable { producer.forgetTopic(envelope.topic) }
            return .failure(error)
        }
    }

    public func subscribe(_ subscription: Subscription) async throws -> DeliveryStream {
        try requireStarted()
        do {
            try subscription.validate()
            try KafkaTopicName.validate(subscription.topic)
        } catch {
            throw error.from(transport: name)
        }
        try await producer.ensureTopic(subscription.topic)
        let retryTopic = subscription.group.map { KafkaRetryTopic.name(topic: subscription.topic, group: $0) }
        if let retryTopic { try await producer.ensureTopic(retryTopic) }
        let consumer = try KafkaSubscription(
            subscription: subscription, retryTopic: retryTopic, transport: self
        )
        let registered = lifecycle.withLock { state -> Bool in
            guard state.phase == .started else { return false }
            state.subscriptions[ObjectIdentifier(consumer)] = consumer
            return true
        }
        guard registered else {
            await consumer.close()
            throw CourierError.closed("\(name) was shut down", transport: name)
        }
        return consumer.start { [weak self] in
            self?.lifecycle.withLock { _ = $0.subscriptions.removeValue(forKey: ObjectIdentifier(consumer)) }
        }
    }

    public func shutdown() async {
        let (wasRunning, subscriptions) = lifecycle.withLock { state -> (Bool, [KafkaSubscription]) in
            defer {
                state.phase = .stopped
                state.subscriptions = [:]
            }
            return (state.phase != .stopped, Array(state.subscriptions.values))
        }
        guard wasRunning else { return await stopped.wait() }
        // Consumers first: their retry-topic publishes need the producer until they are done.
        await withTaskGroup(of: Void.self) { group in
            for subscription in subscriptions { group.addTask { await subscription.close() } }
        }
        await producer.close()
        stopped.open()
    }

    public func waitUntilShutdown() async { await stopped.wait() }

    /// The partitions each open subscription holds right now (for tests and diagnostics).
    func assignments() -> [[KafkaPartition]] {
        lifecycle.withLock { Array($0.subscriptions.values) }.map { $0.assignedPartitions }
    }

    private func requireStarted() throws(CourierError) {
        switch lifecycle.withLock({ $0.phase }) {
        case .started: return
        case .created: throw CourierError(.notStarted, "\(name) is not started; call start() (or run()) first", transport: name)
        case .stopped: throw CourierError.closed("\(name) was shut down", transport: name)
        }
    }
}
