import CRDKafka
import Courier
import Foundation
import Synchronization

/// Publishes for one transport and resolves each publish from its delivery report.
///
/// Each publish registers a continuation under a numeric id, which travels through librdkafka as the
/// message's opaque and comes back in the delivery report read by the poll thread. After a fatal error
/// (idempotent producer state lost) the librdkafka handle is replaced by a fresh one: the old one's
/// outstanding messages are purged and reported, and publishing goes on.
final class KafkaProducer: Sendable {
    private struct Pending {
        var continuation: CheckedContinuation<RDKafkaDeliveryReport, any Error>
        var generation: Int
    }

    private struct State {
        var client: RDKafkaProducer?
        var generation = 0
        var pending: [UInt64: Pending] = [:]
        var nextID: UInt64 = 0
        var closed = false
        var knownTopics: Set<String> = []
        var topicChecks: [String: Task<Void, any Error>] = [:]
    }

    let name: String
    let properties: KafkaProperties
    let logger: any CourierLogger
    private let state = Mutex(State())

    init(name: String, properties: KafkaProperties, logger: any CourierLogger) {
        self.name = name
        self.properties = properties
        self.logger = logger
    }

    /// Makes the librdkafka handle. librdkafka connects in the background; an unreachable bootstrap
    /// shows as publishes failing after `message.timeout.ms`.
    func start() throws(CourierError) {
        let client = try makeClient(generation: 0)
        state.withLock { $0.client = client }
    }

    private func makeClient(generation: Int) throws(CourierError) -> RDKafkaProducer {
        let context = RDKafkaClientContext(name: name, logger: logger)
        return try RDKafkaProducer(properties: properties.producer, context: context) { [weak self] event in
            self?.handle(event, generation: generation)
        }
    }

    /// Sends one message and waits for its delivery report. Throws ``CourierError`` classified from
    /// `rd_kafka_message_status`: not persisted → retriable, possibly persisted → outcome unknown.
    func send(topic: String, key: [UInt8]?, payload: [UInt8], headers: [(String, String)], messageID: String) async throws -> (partition: Int32, offset: Int64) {
        let report: RDKafkaDeliveryReport = try await withCheckedThrowingContinuation { continuation in
            let registered = state.withLock { state -> (UInt64, RDKafkaProducer)? in
                guard !state.closed, let client = state.client else { return nil }
                state.nextID += 1
                state.pending[state.nextID] = Pending(continuation: continuation, generation: state.generation)
                return (state.nextID, client)
            }
            guard let (id, client) = registered else {
                continuation.resume(throwing: CourierError.closed("\(name) is shut down; message \(messageID) was not sent", transport: name))
                return
            }
            do throws(RDKafkaProduceRefusal) {
                try client.produce(RDKafkaOutgoingMessage(topic: topic, key: key, payload: payload, headers: headers, id: id))
            } catch {
                let pending = state.withLock { $0.pending.removeValue(forKey: id) }
                pending?.continuation.resume(throwing: refusalError(error, messageID: messageID, topic: topic))
            }
        }
        if let error = KafkaDeliveryOutcome.error(for: report, messageID: messageID, topic: topic, transport: name) {
            throw error
        }
        return (report.partition, report.offset)
    }

    private func refusalError(_ refusal: RDKafkaProduceRefusal, messageID: String, topic: String) -> CourierError {
        let code = RDKafkaError.courierCode(refusal.code)
        var advice = "it was not sent"
        if code == .messageTooLarge {
            advice = "it exceeds message.max.bytes (\(properties.maxMessageBytes)); split the payload or raise message.max.bytes"
        } else if code == .backpressure {
            advice = "librdkafka's queue is full (queue.buffering.max.messages); slow down and retry"
        }
        return CourierError(
            code,
            "Kafka refused message \(messageID) for topic \(topic): \(refusal.message); \(advice)",
            isRetriable: !RDKafkaError.isPermanent(refusal.code),
            transport: name
        )
    }

    /// Makes sure `topic` exists, creating it where the cluster allows (see ``KafkaProperties/createTopics``).
    /// Answers from a cache after the first success.
    func ensureTopic(_ topic: String) async throws {
        let check = try state.withLock { state throws(CourierError) -> Task<Void, any Error>? in
            guard !state.closed, let client = state.client else {
                throw CourierError.closed("\(name) is shut down", transport: name)
            }
            if state.knownTopics.contains(topic) { return nil }
            // Concurrent first publishes to a topic share one check instead of one thread each.
            if let running = state.topicChecks[topic] { return running }
            let check = Task { try await Self.checkTopic(topic, on: client.handle, createTopics: properties.createTopics, transport: name) }
            state.topicChecks[topic] = check
            return check
        }
        guard let check else { return }
        do {
            try await check.value
            state.withLock { state in
                state.knownTopics.insert(topic)
                state.topicChecks[topic] = nil
            }
        } catch {
            state.withLock { $0.topicChecks[topic] = nil }
            throw error
        }
    }

    /// Asks the cluster about `topic` (on a thread of its own: the call blocks), letting it create the
    /// topic when allowed, until it exists or it is clear that it will not.
    private static func checkTopic(_ topic: String, on handle: RDKafkaHandle, createTopics: Bool, transport: String) async throws {
        try await RDKafkaBlocking.run("courier-kafka-metadata") { () throws(CourierError) in
            var lastState = RDKafkaTopicState.missing
            for attempt in 0..<10 {
                if attempt > 0 { Thread.sleep(forTimeInterval: 0.2) }
                lastState = try RDKafkaMetadata.topicState(handle, topic: topic, timeoutMilliseconds: 5000).get()
                if case .exists = lastState { return }
                if lastState == .missing, !createTopics {
                    throw CourierError(
                        .unroutable,
                        "Kafka topic \(topic) does not exist and create-topics is false; create the topic, or set create-topics=true",
                        transport: transport
                    )
                }
            }
            throw CourierError(
                .unroutable,
                "Kafka topic \(topic) does not exist and the cluster did not create it (last answer: \(lastState)); create it with the partitions you need, or enable auto.create.topics.enable on the brokers",
                transport: transport
            )
        }
    }

    /// Forgets that `topic` exists (after the cluster said it does not).
    func forgetTopic(_ topic: String) {
        state.withLock { _ = $0.knownTopics.remove(topic) }
    }

    private func handle(_ event: RDKafkaProducerEvent, generation: Int) {
        switch event {
        case .deliveries(let reports):
            let resolved = state.withLock { state in
                reports.compactMap { report in state.pending.removeValue(forKey: report.id).map { ($0.continuation, report) } }
            }
            for (continuation, report) in resolved { continuation.resume(returning: report) }
        case .error(let code, let message, let isFatal):
            guard isFatal else {
                logger.debug("Kafka producer error: \(message)", metadata: ["transport": name, "code": RDKafkaError.name(code)])
                return
            }
            logger.error(
                "Kafka producer hit a fatal error (\(RDKafkaError.name(code)): \(message)); recreating the producer",
                metadata: ["transport": name]
            )
            recreate(after: generation)
        }
    }

    /// Replaces the handle of `generation` with a new one; the old one's messages are purged and
    /// reported (as not persisted or possibly persisted), and any left without a report fail as unknown.
    private func recreate(after generation: Int) {
        let retired = state.withLock { state -> RDKafkaProducer? in
            guard !state.closed, state.generation == generation, let old = state.client else { return nil }
            state.generation += 1
            state.client = nil
            do {
                state.client = try makeClient(generation: state.generation)
            } catch {
                logger.error("could not recreate the Kafka producer: \(error)", metadata: ["transport": name])
            }
            return old
        }
        guard let retired else { return }
        Task { [weak self] in
            await retired.close(timeout: .zero)
            self?.failPending(ofGeneration: generation, reason: "the producer was recreated after a fatal error")
        }
    }

    private func failPending(ofGeneration generation: Int, reason: String) {
        let orphans = state.withLock { state in
            let ids = state.pending.filter { $0.value.generation <= generation }.map(\.key)
            return ids.compactMap { state.pending.removeValue(forKey: $0) }
        }
        for orphan in orphans {
            orphan.continuation.resume(throwing: CourierError.outcomeUnknown(
                "no delivery report arrived before \(reason); Kafka may have stored the message", transport: name
            ))
        }
    }

    /// Waits up to the flush timeout for outstanding reports, then closes the handle. Idempotent.
    func close() async {
        let (client, generation) = state.withLock { state -> (RDKafkaProducer?, Int) in
            state.closed = true
            defer { state.client = nil }
            return (state.client, state.generation)
        }
        guard let client else { return }
        await client.close(timeout: properties.flushTimeout)
        failPending(ofGeneration: generation, reason: "the transport shut down")
    }

    /// Test hook: raises a fatal error on the current handle, as librdkafka would after losing the
    /// idempotent producer's state.
    func injectFatalError() {
        guard let client = state.withLock({ $0.client }) else { return }
        _ = rd_kafka_test_fatal_error(client.handle.pointer, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "injected by a Courier test")
    }
}
