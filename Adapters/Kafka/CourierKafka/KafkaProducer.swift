import CRDKafka
import Courier
import Foundation
import Synchronization

/// Something ``KafkaProducer/send(_:)`` can enqueue with librdkafka.
protocol KafkaProducible: Sendable {
    var topic: String { get }
    /// For error messages.
    var messageID: String { get }
    /// Enqueues the message with `id` as its opaque; `now` is the time of sending (read once per batch).
    func produce(on client: RDKafkaProducer, id: UInt64, now: Date) throws(RDKafkaProduceRefusal)
}

extension Envelope: KafkaProducible {
    var messageID: String { id }

    /// As Courier sends an envelope: its ordering key is the Kafka key, its timestamp the record
    /// timestamp, its other fields travel as headers (written straight from the envelope, see ``KafkaWireHeaders``).
    func produce(on client: RDKafkaProducer, id opaque: UInt64, now: Date) throws(RDKafkaProduceRefusal) {
        let key: RDKafkaKey = orderingKey.map { .text($0) } ?? .none
        // Headers written before the call, not in a closure: a closure capturing `self` copies the envelope.
        let headers = try RDKafkaProducer.makeHeaders(count: KafkaWireHeaders.count(of: self))
        let recordTimestamp = KafkaWireHeaders.recordTimestamp(of: self, now: now)
        KafkaWireHeaders.write(self, recordTimestamp: recordTimestamp) { headers.add($0, $1) }
        try client.produce(topic: topic, key: key, payload: payload, id: opaque, timestamp: recordTimestamp, headers: headers)
    }
}

/// A message with explicit key and headers (retry-topic copies, tests).
struct KafkaOutgoingMessage: KafkaProducible {
    var topic: String
    var key: KafkaMessageKey
    var payload: [UInt8]
    var headers: [(String, String)]
    var messageID: String

    init(topic: String, key: [UInt8]?, payload: [UInt8], headers: [(String, String)], messageID: String) {
        self.topic = topic
        self.key = key.map { .bytes($0) } ?? .none
        self.payload = payload
        self.headers = headers
        self.messageID = messageID
    }

    func produce(on client: RDKafkaProducer, id: UInt64, now: Date) throws(RDKafkaProduceRefusal) {
        let key: RDKafkaKey = switch self.key {
        case .none: .none
        case .bytes(let bytes): .bytes(bytes)
        case .text(let text): .text(text)
        }
        try client.produce(topic: topic, key: key, payload: payload, id: id, headerCount: headers.count) { writer in
            for (name, value) in headers { writer.add(name, value) }
        }
    }
}

/// A Kafka key: none, bytes, or a string's UTF-8 (sent without a copy).
enum KafkaMessageKey: Sendable {
    case none
    case bytes([UInt8])
    case text(String)
}

/// Publishes for one transport and resolves each batch of publishes from its delivery reports.
///
/// A batch registers one continuation under a numeric id. Each message carries `batch << 24 | index`
/// as its opaque, which comes back in its delivery report, read by the poll thread; the batch resumes
/// once, when its last report has arrived (one wake-up per batch, not per message). After a fatal error
/// (idempotent producer state lost) the librdkafka handle is replaced by a fresh one: the old one's
/// outstanding messages are purged and reported, and publishing goes on.
final class KafkaProducer: Sendable {
    /// What became of one message of a batch.
    enum Outcome: Sendable {
        case report(RDKafkaDeliveryReport)
        case refused(RDKafkaProduceRefusal)
        /// Not sent: the transport was shut down before.
        case shutDown
        /// No report will come: the handle was replaced or closed first.
        case orphaned(reason: String)
    }

    /// A batch waiting for its reports. Only touched under the state lock.
    private final class PendingBatch: @unchecked Sendable {
        var outcomes: [Outcome?]
        var remaining: Int
        let continuation: CheckedContinuation<[Outcome?], Never>
        let generation: Int

        init(count: Int, continuation: CheckedContinuation<[Outcome?], Never>, generation: Int) {
            outcomes = Array(repeating: nil, count: count)
            remaining = count
            self.continuation = continuation
            self.generation = generation
        }

        /// Records one outcome; true when it was the batch's last.
        func record(_ outcome: Outcome, at index: Int) -> Bool {
            guard index < outcomes.count, outcomes[index] == nil else { return false }
            outcomes[index] = outcome
            remaining -= 1
            return remaining == 0
        }
    }

    private struct State {
        var client: RDKafkaProducer?
        var generation = 0
        var pending: [UInt64: PendingBatch] = [:]
        var nextBatch: UInt64 = 0
        var closed = false
        var knownTopics: Set<String> = []
        var topicChecks: [String: Task<Void, any Error>] = [:]
    }

    /// Bits of a message's opaque that hold its index in the batch; the largest batch is 2^24 messages.
    static let indexBits = 24
    static let maxBatch = 1 << indexBits

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
        let message = KafkaOutgoingMessage(topic: topic, key: key, payload: payload, headers: headers, messageID: messageID)
        return try await send([message])[0].get()
    }

    /// Enqueues every message, then waits once for all their delivery reports; each message's outcome,
    /// in order, classified as ``send(topic:key:payload:headers:messageID:)`` does. At most
    /// ``maxBatch`` messages.
    func send<Messages: RandomAccessCollection & Sendable>(_ messages: Messages) async -> [Result<(partition: Int32, offset: Int64), CourierError>]
    where Messages.Element: KafkaProducible, Messages.Index == Int {
        let outcomes = await sendReturningOutcomes(messages)
        return Self.withElements(of: messages) { messages in
            outcomes.indices.map { index in
                result(of: outcomes[index], messageID: messages[index].messageID, topic: messages[index].topic)
            }
        }
    }

    /// As ``send(_:)``, but returns what became of each message unclassified (``result(of:messageID:topic:)``
    /// classifies one), so a caller that builds results of its own makes one array, not two: a batch's
    /// arrays of results are large enough that each one freed makes malloc consolidate its free lists.
    func sendReturningOutcomes<Messages: RandomAccessCollection & Sendable>(_ messages: Messages) async -> [Outcome?]
    where Messages.Element: KafkaProducible, Messages.Index == Int {
        guard !messages.isEmpty else { return [] }
        precondition(messages.count <= Self.maxBatch, "KafkaProducer.send takes at most \(Self.maxBatch) messages; the transport splits larger batches")
        let outcomes = await withCheckedContinuation { (continuation: CheckedContinuation<[Outcome?], Never>) in
            let registered = state.withLock { state -> (UInt64, PendingBatch, RDKafkaProducer)? in
                guard !state.closed, let client = state.client else { return nil }
                state.nextBatch += 1
                let batch = PendingBatch(count: messages.count, continuation: continuation, generation: state.generation)
                state.pending[state.nextBatch] = batch
                return (state.nextBatch, batch, client)
            }
            guard let (batchID, batch, client) = registered else {
                continuation.resume(returning: Array(repeating: .shutDown, count: messages.count))
                return
            }
            var refusals: [(Int, RDKafkaProduceRefusal)] = []
            let now = Date()
            // Read in place (a buffer's elements are borrowed, not copied out of the collection).
            Self.withElements(of: messages) { messages in
                for index in messages.indices {
                    do throws(RDKafkaProduceRefusal) {
                        try messages[index].produce(on: client, id: batchID << UInt64(Self.indexBits) | UInt64(index), now: now)
                    } catch {
                        refusals.append((index, error))
                    }
                }
            }
            guard !refusals.isEmpty else { return }
            // Refused messages get no report: record them, and resume if the reports are all in already.
            let finished = state.withLock { state -> Bool in
                // Gone already when a fatal error or the shutdown orphaned the batch (and resumed it).
                guard state.pending[batchID] === batch else { return false }
                var last = false
                for (index, refusal) in refusals where batch.record(.refused(refusal), at: index) { last = true }
                if last { state.pending[batchID] = nil }
                return last
            }
            if finished { continuation.resume(returning: batch.outcomes) }
        }
        return outcomes
    }

    /// Calls `body` with the messages in a buffer, so they are borrowed in place (the usual case: an
    /// array or a slice of one), or copied into one otherwise.
    private static func withElements<Messages: RandomAccessCollection, R>(
        of messages: Messages, _ body: (UnsafeBufferPointer<Messages.Element>) -> R
    ) -> R {
        if let result = messages.withContiguousStorageIfAvailable(body) { return result }
        return Array(messages).withUnsafeBufferPointer(body)
    }

    /// One message's outcome classified: stored (where), or the error to report. The message's id and
    /// topic are only read for an error (read for every message, they cost reference counts).
    func result(
        of outcome: Outcome?, messageID: @autoclosure () -> String, topic: @autoclosure () -> String
    ) -> Result<(partition: Int32, offset: Int64), CourierError> {
        switch outcome {
        case .report(let report):
            if let error = KafkaDeliveryOutcome.error(for: report, messageID: messageID(), topic: topic(), transport: name) {
                return .failure(error)
            }
            return .success((report.partition, report.offset))
        case .refused(let refusal):
            return .failure(refusalError(refusal, messageID: messageID(), topic: topic()))
        case .shutDown:
            return .failure(CourierError.closed("\(name) is shut down; message \(messageID()) was not sent", transport: name))
        case .orphaned(let reason):
            return .failure(orphanError(reason: reason, messageID: messageID()))
        case nil:
            return .failure(orphanError(reason: "the batch ended without it", messageID: messageID()))
        }
    }

    private func orphanError(reason: String, messageID: String) -> CourierError {
        return CourierError.outcomeUnknown(
            "no delivery report for message \(messageID) arrived before \(reason); Kafka may have stored the message", transport: name
        )
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
            let check = Task { [properties, name] in try await Self.checkTopic(topic, on: client.handle, properties: properties, transport: name) }
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

    /// Asks the cluster about `topic` (on a thread of its own: the calls block) until it exists or it is
    /// clear that it will not. A missing topic is created where allowed: by the metadata request itself
    /// on a cluster that auto-creates topics (unless a partition count is configured), otherwise by a
    /// CreateTopics request with the configured partitions and replication factor.
    private static func checkTopic(_ topic: String, on handle: RDKafkaHandle, properties: KafkaProperties, transport: String) async throws {
        try await RDKafkaBlocking.run("courier-kafka-metadata") { () throws(CourierError) in
            var lastState = RDKafkaTopicState.missing
            var askedToCreate = false
            for attempt in 0..<10 {
                if attempt > 0 { Thread.sleep(forTimeInterval: 0.2) }
                lastState = try RDKafkaMetadata.topicState(handle, topic: topic, timeoutMilliseconds: 5000).get()
                if case .exists = lastState { return }
                guard lastState == .missing else { continue }
                guard properties.createTopics else {
                    throw CourierError(
                        .unroutable,
                        "Kafka topic \(topic) does not exist and create-topics is false; create the topic, or set create-topics=true",
                        transport: transport
                    )
                }
                guard !askedToCreate else { continue }
                askedToCreate = true
                let creation = RDKafkaAdmin.createTopic(
                    handle, topic: topic, partitions: properties.topicPartitions,
                    replicationFactor: properties.topicReplicationFactor, timeoutMilliseconds: properties.adminTimeoutMilliseconds
                )
                if case .refused(let code, let message) = creation {
                    throw creationRefused(topic, properties: properties, reason: "\(message) (\(RDKafkaError.name(code)))", transport: transport)
                }
            }
            throw creationRefused(topic, properties: properties, reason: "it was still not there after CreateTopics (last answer: \(lastState))", transport: transport)
        }
    }

    private static func creationRefused(_ topic: String, properties: KafkaProperties, reason: String, transport: String) -> CourierError {
        let shape = [
            properties.topicPartitions.map { "\($0) partitions" },
            properties.topicReplicationFactor.map { "replication factor \($0)" },
        ].compactMap { $0 }.joined(separator: " and ")
        return CourierError(
            .unroutable,
            "Kafka topic \(topic) does not exist and the cluster did not create it\(shape.isEmpty ? "" : " with \(shape)"): \(reason); create it with the partitions you need, or let this client create topics (CreateTopics permission, or auto.create.topics.enable on the brokers)",
            transport: transport
        )
    }

    /// Forgets that `topic` exists (after the cluster said it does not).
    func forgetTopic(_ topic: String) {
        state.withLock { _ = $0.knownTopics.remove(topic) }
    }

    private func handle(_ event: RDKafkaProducerEvent, generation: Int) {
        switch event {
        case .deliveries(let reports):
            let mask = UInt64(Self.maxBatch - 1)
            let finished = state.withLock { state -> [PendingBatch] in
                var finished: [PendingBatch] = []
                // Reports come in runs from one batch: look it up once per run.
                var current: (id: UInt64, batch: PendingBatch?) = (0, nil)
                for report in reports {
                    let batchID = report.id >> UInt64(Self.indexBits)
                    if batchID != current.id { current = (batchID, state.pending[batchID]) }
                    // Optional chaining borrows the batch; a binding would retain it for every report.
                    guard current.batch?.record(.report(report), at: Int(report.id & mask)) == true, let batch = current.batch else { continue }
                    state.pending[batchID] = nil
                    current = (batchID, nil)
                    finished.append(batch)
                }
                return finished
            }
            for batch in finished { batch.continuation.resume(returning: batch.outcomes) }
        case .error(let code, let message, let isFatal):
            guard isFatal else {
                logger.debug("Kafka producer error: \(message)", metadata: ["transport": name, "code": RDKafkaError.name(code)])
                return
            }
            logger.info(
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
                logger.info("could not recreate the Kafka producer: \(error)", metadata: ["transport": name])
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
        let orphans = state.withLock { state -> [PendingBatch] in
            let ids = state.pending.filter { $0.value.generation <= generation }.map(\.key)
            return ids.compactMap { state.pending.removeValue(forKey: $0) }
        }
        for batch in orphans {
            // Removed from the table under the lock, so no report can touch it any more.
            let outcomes = batch.outcomes.map { $0 ?? .orphaned(reason: reason) }
            batch.continuation.resume(returning: outcomes)
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

    /// The current librdkafka handle (for tests and admin calls).
    var currentClient: RDKafkaProducer? { state.withLock { $0.client } }

    /// Test hook: raises a fatal error on the current handle, as librdkafka would after losing the
    /// idempotent producer's state.
    func injectFatalError() {
        guard let client = state.withLock({ $0.client }) else { return }
        _ = rd_kafka_test_fatal_error(client.handle.pointer, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "injected by a Courier test")
    }
}
