import CRDKafka
import Courier
import Foundation
import Synchronization

/// One subscription: a librdkafka consumer in the subscription's group, served by a dedicated poll
/// thread that reads with `rd_kafka_consumer_poll`, buffers what it reads, and hands deliveries to the
/// stream in batches while fewer than `prefetch` are unsettled.
///
/// Offsets are stored (and then committed every `auto.commit.interval.ms`, on revoke and on close) only
/// up to the lowest unsettled delivery of each partition, so nothing is committed before it is handled.
final class KafkaSubscription: Sendable {
    /// A read message waiting to be handed out.
    struct Queued: Sendable {
        var location: KafkaPartition
        var offset: Int64
        /// The Kafka key, kept for retry-topic copies.
        var key: KafkaMessageKey
        /// The decoded message, with any headers a redelivery merged in.
        var envelope: Envelope
        var epoch: Int
        var deliveryCount: Int
        var due: Date?
    }

    struct InFlight: Sendable {
        var queued: Queued
        var settling = false
    }

    struct State {
        var continuation: DeliveryStream.Continuation?
        /// Queued deliveries; those before `pendingHead` were handed out (moved out, left `nil`).
        var pending: [Queued?] = []
        var pendingHead = 0
        var inFlight: [UInt64: InFlight] = [:]
        var nextTag: UInt64 = 0
        /// Bumped per partition on every assignment, so settling a delivery from an earlier assignment
        /// never stores an offset for the current one.
        var epochs: [KafkaPartition: Int] = [:]
        var epochCounter = 0
        var progress: [KafkaPartition: KafkaPartitionProgress] = [:]
        /// Retry-topic copies not yet due, per paused partition, in read order.
        var held: [KafkaPartition: [Queued]] = [:]
        /// In-process redeliveries of a private subscription waiting for their delay.
        var delayed: [Queued] = []
        var pausedForBuffer: Set<KafkaPartition> = []
        /// Commit points moved by settlements, stored by the poll thread in one call.
        var toStore: [KafkaPartition: Int64] = [:]
        var closing = false
        /// Set once ``start(onClose:)`` launched the poll thread, which then owns closing the consumer.
        var pollThreadStarted = false

        var pendingCount: Int { pending.count - pendingHead }
    }

    let subscription: Subscription
    let group: String
    let retryTopic: String?
    let transportName: String
    let producer: KafkaProducer
    let clock: any CourierClock
    let logger: any CourierLogger
    let bufferLimit: Int
    let consumer: RDKafkaConsumer
    let state = Mutex(State())
    private let finished = Latch()
    private let closedWithoutPolling = Atomic<Bool>(false)

    init(subscription: Subscription, retryTopic: String?, transport: KafkaTransport) throws(CourierError) {
        self.subscription = subscription
        self.group = subscription.group ?? "courier-private-\(Envelope.makeID())"
        self.retryTopic = retryTopic
        self.transportName = transport.name
        self.producer = transport.producer
        self.clock = transport.context.clock
        self.logger = transport.context.logger
        self.bufferLimit = max(transport.properties.consumerBuffer, subscription.prefetch)
        let relay = KafkaRebalanceRelay()
        let context = RDKafkaClientContext(name: transport.name, logger: transport.context.logger) { relay.relay($0) }
        consumer = try RDKafkaConsumer(properties: transport.properties.consumer(group: group), context: context)
        relay.connect(self)
        do {
            try consumer.subscribe([subscription.topic] + (retryTopic.map { [$0] } ?? []))
        } catch {
            consumer.close()
            throw error.from(transport: transport.name)
        }
    }

    /// Starts the poll thread and returns the stream. `onClose` runs once the subscription is closed.
    func start(onClose: @escaping @Sendable () -> Void) -> DeliveryStream {
        let (stream, continuation) = DeliveryStream.make { [self] in
            await close()
            onClose()
        }
        state.withLock { state in
            state.continuation = continuation
            state.pollThreadStarted = true
        }
        let thread = Thread { [self] in pollLoop() }
        thread.name = "courier-kafka-consumer"
        thread.start()
        return stream
    }

    /// Stops the poll thread, commits what was settled, leaves the group and ends the stream.
    /// Unsettled deliveries are redelivered to the group. Idempotent; returns once done.
    func close() async {
        let pollThreadRuns = state.withLock { state -> Bool in
            state.closing = true
            return state.pollThreadStarted
        }
        guard pollThreadRuns else {
            // Never started (the transport shut down while subscribing): nothing was handed out.
            if !closedWithoutPolling.exchange(true, ordering: .acquiringAndReleasing) {
                consumer.close()
                finished.open()
            }
            await finished.wait()
            return
        }
        let watchdog = Task { [self] in
            try await Task.sleep(for: Self.leaveGroupLimit)
            abandonClose()
        }
        await finished.wait()
        watchdog.cancel()
    }

    /// How long ``close()`` waits for librdkafka to leave the group. librdkafka 2.0.2's
    /// `rd_kafka_consumer_close` can wait indefinitely when the group is rebalancing as the member
    /// leaves; past this, close returns anyway.
    static let leaveGroupLimit: Duration = .seconds(10)

    /// Ends the stream and lets ``close()`` return while the poll thread is still inside librdkafka's
    /// close. Settled offsets were committed before it; the thread finishes (and frees the handle) if
    /// librdkafka ever returns, and the group reassigns the partitions after the session timeout if not.
    private func abandonClose() {
        guard !finished.isOpen else { return }
        let continuation = state.withLock { state -> DeliveryStream.Continuation? in
            defer { state.continuation = nil }
            return state.continuation
        }
        logger.info(
            "Kafka consumer did not leave group \(group) within \(Self.leaveGroupLimit); closing the subscription anyway (its partitions go to other members after session.timeout.ms)",
            metadata: ["transport": transportName, "group": group]
        )
        continuation?.finish()
        finished.open()
    }

    // MARK: Poll thread

    private func pollLoop() {
        var fullSince: ContinuousClock.Instant?
        // Reused every turn, so a turn's batch does not allocate (and fault in) a fresh buffer.
        var batch: [KafkaRecordDecoding.Decoded] = []
        batch.reserveCapacity(Self.readBatchLimit)
        while !state.withLock({ $0.closing }) {
            storeSettledOffsets()
            releaseDue()
            let room = bufferLimit - state.withLock { $0.pendingCount }
            if room <= 0 {
                // The handler is behind. Stop reading for a moment without touching librdkafka (a pause
                // would drop what it prefetched); if that lasts, pause and keep polling, so the group
                // still sees this member alive and rebalances are served.
                let since = fullSince ?? .now
                fullSince = since
                if ContinuousClock.now - since < Self.readPauseGrace {
                    Thread.sleep(forTimeInterval: 0.002)
                    continue
                }
                pauseForBuffer()
            } else {
                fullSince = nil
                resumeAfterBuffer()
            }
            read(upTo: max(room, 1), into: &batch, waitMilliseconds: state.withLock { $0.pendingCount == 0 && $0.held.isEmpty && $0.delayed.isEmpty } ? 100 : 10)
        }
        storeSettledOffsets()
        let continuation = state.withLock { state -> DeliveryStream.Continuation? in
            // Deliveries still out are redelivered to the group; settling them now fails.
            state.inFlight = [:]
            state.pending = []
            state.pendingHead = 0
            defer { state.continuation = nil }
            return state.continuation
        }
        consumer.commit()
        consumer.close()
        continuation?.finish()
        finished.open()
    }

    /// How long the buffer may stay full before fetching is paused.
    static let readPauseGrace: Duration = .seconds(1)

    /// One `rd_kafka_consumer_poll` that waits, then more without waiting, up to `limit` messages,
    /// each decoded while librdkafka still holds it.
    private func read(upTo limit: Int, into batch: inout [KafkaRecordDecoding.Decoded], waitMilliseconds: Int32) {
        batch.removeAll(keepingCapacity: true)
        var result = consumer.poll(timeoutMilliseconds: waitMilliseconds, decode: KafkaRecordDecoding.decode)
        while true {
            switch result {
            case .record(let record): batch.append(record)
            case .error(let code, let message): report(code, message)
            case .nothing: break
            }
            guard case .record = result, batch.count < min(limit, Self.readBatchLimit) else { break }
            result = consumer.poll(timeoutMilliseconds: 0, decode: KafkaRecordDecoding.decode)
        }
        if !batch.isEmpty { ingest(batch) }
        batch.removeAll(keepingCapacity: true)
    }

    /// The most messages one poll turn reads before handing them over.
    static let readBatchLimit = 1000

    /// Stores the commit points settlements moved, in one call for all partitions. Runs on the poll
    /// thread, so a revoke or close always stores before it commits.
    func storeSettledOffsets() {
        let offsets = state.withLock { state -> [(KafkaPartition, Int64)] in
            guard !state.toStore.isEmpty else { return [] }
            defer { state.toStore = [:] }
            return state.toStore.map { ($0.key, $0.value) }
        }
        consumer.storeOffsets(offsets)
    }

    private func report(_ code: rd_kafka_resp_err_t, _ message: String) {
        logger.debug("Kafka consumer: \(message)", metadata: ["transport": transportName, "group": group, "code": RDKafkaError.name(code)])
    }

    /// Takes a batch from librdkafka: tracks every offset, holds retry copies that are not yet due
    /// (pausing their partition), queues the rest and hands out what prefetch allows.
    private func ingest(_ batch: [KafkaRecordDecoding.Decoded]) {
        let now = clock.wallClockNow()
        let toPause = state.withLock { state -> [KafkaPartition] in
            var toPause: [KafkaPartition] = []
            state.pending.reserveCapacity(state.pending.count + batch.count)
            // Records come in runs from one partition: look its epoch and progress up once per run.
            var run: (location: KafkaPartition, epoch: Int?, progress: KafkaPartitionProgress?)?
            for record in batch {
                let location = record.location
                if run?.location != location {
                    if let run, let progress = run.progress { state.progress[run.location] = progress }
                    run = (location, state.epochs[location], state.epochs[location] == nil ? nil : state.progress.removeValue(forKey: location) ?? KafkaPartitionProgress())
                }
                guard let epoch = run?.epoch else { continue }
                run?.progress?.track(record.offset)
                let queued = Queued(
                    location: location, offset: record.offset, key: record.key,
                    envelope: record.envelope, epoch: epoch, deliveryCount: record.deliveryCount ?? 1, due: record.due
                )
                if let due = record.due, due > now || state.held[location] != nil {
                    if state.held[location] == nil { toPause.append(location) }
                    state.held[location, default: []].append(queued)
                } else {
                    state.pending.append(queued)
                }
            }
            if let run, let progress = run.progress { state.progress[run.location] = progress }
            pump(&state)
            return toPause
        }
        consumer.pause(toPause)
    }

    /// Moves held retry copies and delayed in-process redeliveries whose time has come into the queue.
    private func releaseDue() {
        let now = clock.wallClockNow()
        let toResume = state.withLock { state -> [KafkaPartition] in
            var toResume: [KafkaPartition] = []
            for (location, queue) in state.held {
                let ready = queue.prefix { ($0.due ?? now) <= now }
                guard !ready.isEmpty else { continue }
                state.pending.append(contentsOf: ready.map(Optional.some))
                if ready.count == queue.count {
                    state.held[location] = nil
                    if !state.pausedForBuffer.contains(location) { toResume.append(location) }
                } else {
                    state.held[location] = Array(queue.dropFirst(ready.count))
                }
            }
            if !state.delayed.isEmpty {
                state.pending.append(contentsOf: state.delayed.filter { ($0.due ?? now) <= now }.map(Optional.some))
                state.delayed.removeAll { ($0.due ?? now) <= now }
            }
            pump(&state)
            return toResume
        }
        consumer.resume(toResume)
    }

    /// Pauses every assigned partition not paused already (the buffer stayed full too long).
    private func pauseForBuffer() {
        let toPause = state.withLock { state -> [KafkaPartition] in
            let newly = Set(state.epochs.keys).subtracting(state.pausedForBuffer).subtracting(state.held.keys)
            state.pausedForBuffer.formUnion(newly)
            return Array(newly)
        }
        consumer.pause(toPause)
    }

    /// Resumes what ``pauseForBuffer()`` paused, once the buffer is half empty. librdkafka resumes each
    /// partition after the last message it handed over.
    private func resumeAfterBuffer() {
        let toResume = state.withLock { state -> [KafkaPartition] in
            guard !state.pausedForBuffer.isEmpty, state.pendingCount <= bufferLimit / 2 else { return [] }
            defer { state.pausedForBuffer = [] }
            return Array(state.pausedForBuffer.intersection(state.epochs.keys).subtracting(state.held.keys))
        }
        consumer.resume(toResume)
    }

    /// Hands out queued deliveries while fewer than `prefetch` are unsettled, as one batch (one hand-off
    /// to the stream, whatever its size). Runs under the lock, so batches reach the stream in order.
    func pump(_ state: inout State) {
        guard let continuation = state.continuation, !state.closing else { return }
        let room = subscription.prefetch - state.inFlight.count
        guard room > 0, state.pendingHead < state.pending.count else { return }
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(min(room, state.pending.count - state.pendingHead))
        // Deliveries come in runs from one partition: look its epoch up once per run.
        var lastLocation: KafkaPartition?
        var lastEpoch: Int?
        while state.inFlight.count < subscription.prefetch, state.pendingHead < state.pending.count {
            // Moved out, not copied: the slot is done with.
            guard let queued = state.pending[state.pendingHead].take() else {
                state.pendingHead += 1
                continue
            }
            state.pendingHead += 1
            if queued.location != lastLocation {
                lastLocation = queued.location
                lastEpoch = state.epochs[queued.location]
            }
            guard lastEpoch == queued.epoch else { continue }
            state.nextTag += 1
            let tag = state.nextTag
            state.inFlight[tag] = InFlight(queued: queued)
            let source = DeliverySource(
                transport: transportName, topic: queued.envelope.topic, group: subscription.group,
                partition: Int(queued.location.partition), offset: queued.offset
            )
            deliveries.append(Delivery(envelope: queued.envelope, deliveryCount: queued.deliveryCount, source: source, tag: tag, settler: self))
        }
        if state.pendingHead > 1024, state.pendingHead * 2 > state.pending.count {
            state.pending.removeFirst(state.pendingHead)
            state.pendingHead = 0
        }
        continuation.yield(contentsOf: deliveries)
    }

    /// Whether a settlement should hand out more at once: when prefetch is small, or half of it is free.
    /// Otherwise the poll thread's next turn (at most 10 ms away while deliveries wait) does, so a
    /// busy subscription hands out batches instead of one delivery per settlement.
    func shouldRefill(_ state: State) -> Bool {
        state.inFlight.count <= subscription.prefetch / 2 || subscription.prefetch <= 16
    }

    /// The partitions assigned to this member right now.
    var assignedPartitions: [KafkaPartition] {
        state.withLock { Array($0.epochs.keys) }.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    // MARK: Rebalances (on the poll thread, inside rd_kafka_consumer_poll)

    func rebalanced(_ event: RDKafkaRebalance) {
        switch event {
        case .assign(let partitions):
            state.withLock { state in
                for partition in partitions {
                    state.epochCounter += 1
                    state.epochs[partition] = state.epochCounter
                    state.progress[partition] = KafkaPartitionProgress()
                }
            }
            logger.debug("Kafka consumer assigned \(partitions.map(\.description).joined(separator: ", "))", metadata: ["transport": transportName, "group": group])
        case .revoke(let partitions):
            let wasPaused = state.withLock { state -> [KafkaPartition] in
                var paused: [KafkaPartition] = []
                for partition in partitions {
                    state.epochs[partition] = nil
                    state.progress[partition] = nil
                    if state.held.removeValue(forKey: partition) != nil || state.pausedForBuffer.remove(partition) != nil {
                        paused.append(partition)
                    }
                }
                let revoked = Set(partitions)
                state.delayed.removeAll { revoked.contains($0.location) }
                return paused
            }
            // A partition paused here must not stay paused if it comes back to this member later.
            consumer.resume(wasPaused)
            storeSettledOffsets()
            // Leaving the group: librdkafka commits the stored offsets itself as it unassigns (auto
            // commit), and the poll thread committed just before; a synchronous commit here, inside
            // rd_kafka_consumer_close, can wait for a coordinator the closing group no longer looks up.
            guard !state.withLock({ $0.closing }) else { return }
            // Commit what was settled before the partitions go to another member.
            let error = consumer.commit()
            if error != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.info("Kafka commit on revoke failed: \(RDKafkaError.describe(error))", metadata: ["transport": transportName, "group": group])
            }
        }
    }
}

/// Lets the rebalance callback reach a subscription that is created after its consumer's context.
final class KafkaRebalanceRelay: Sendable {
    private struct Target { weak var subscription: KafkaSubscription? }
    private let target = Mutex(Target())

    func connect(_ subscription: KafkaSubscription) { target.withLock { $0.subscription = subscription } }
    func relay(_ event: RDKafkaRebalance) { target.withLock { $0.subscription }?.rebalanced(event) }
}
