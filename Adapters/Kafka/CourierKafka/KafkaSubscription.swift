import CRDKafka
import Courier
import Foundation
import Synchronization

/// One subscription: a librdkafka consumer in the subscription's group, served by a dedicated poll
/// thread that reads with `rd_kafka_consumer_poll` and buffers what it reads; deliveries go to the stream
/// in batches while fewer than `prefetch` are unsettled, made on the reader's task when it runs dry (or by
/// the poll thread while the reader waits).
///
/// Offsets are stored (and then committed every `auto.commit.interval.ms`, on revoke and on close) only
/// up to the lowest unsettled delivery of each partition, so nothing is committed before it is handled.
final class KafkaSubscription: Sendable {
    /// One assignment of one partition to this member: which of its offsets were read and settled. A new
    /// one per assignment, so settling a delivery from an earlier assignment never stores an offset for
    /// the current one. Its fields are only touched under the subscription's state lock (so the run-time
    /// exclusivity check, two per message otherwise, is left out).
    final class Assignment: @unchecked Sendable {
        let location: KafkaPartition
        @exclusivity(unchecked) var progress = KafkaPartitionProgress()
        @exclusivity(unchecked) var revoked = false
        /// The commit point settlements moved, until the poll thread stores it.
        @exclusivity(unchecked) var toStore: Int64?

        init(_ location: KafkaPartition) { self.location = location }

        /// Marks `offset` settled. When that moves the commit point, it becomes `toStore`, and this
        /// assignment joins `queue` (the poll thread stores it, batched and always before it commits).
        /// Not when the partition was revoked since: the next member reads it again.
        func settle(_ offset: Int64, toStore queue: inout [Assignment]) {
            guard !revoked, let point = progress.settle(offset) else { return }
            if toStore == nil { queue.append(self) }
            toStore = point
        }
    }

    struct State {
        var continuation: DeliveryStream.Continuation?
        /// Queued deliveries; those before `pendingHead` were handed out (moved out, left `nil`).
        var pending: [Entry?] = []
        var pendingHead = 0
        /// Deliveries handed out and not settled.
        var inFlightCount = 0
        /// Set when the subscription closed: settling anything handed out fails from then on.
        var deliveriesEnded = false
        var nextTag: UInt64 = 0
        /// The current assignment of every partition this member holds.
        var assignments: [KafkaPartition: Assignment] = [:]
        /// Retry-topic copies not yet due, per paused partition, in read order.
        var held: [KafkaPartition: [Entry]] = [:]
        /// In-process redeliveries of a private subscription waiting for their delay.
        var delayed: [Entry] = []
        var pausedForBuffer: Set<KafkaPartition> = []
        /// Retry-topic partitions of the latest assignment, paused until the topic's own partitions
        /// have started fetching (see ``retryTopicStartDelay``).
        var retryPartitionsWaiting: (partitions: Set<KafkaPartition>, until: ContinuousClock.Instant)?
        /// Assignments whose commit point settlements moved, stored by the poll thread in one call.
        var toStore: [Assignment] = []
        var closing = false
        /// Set once ``start(onClose:)`` launched the poll thread, which then owns closing the consumer.
        var pollThreadStarted = false
        /// The poll thread waits for the buffer to drain: the hand-off that drains it signals `roomSignal`.
        var pollThreadWaitsForRoom = false
        /// Settled entries, released by the poll thread (see ``retire(_:)``).
        var retired: [Entry] = []

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
    /// librdkafka's `queued.min.messages`: at this many queued messages it stops fetching.
    let queuedMinMessages: Int
    /// librdkafka's `queued.max.messages.kbytes` in bytes: at this much queued payload it stops fetching too.
    let queuedMaxBytes: Int
    let consumer: RDKafkaConsumer
    /// Holds this subscription for the consumer's rebalance callback until the consumer is closed.
    private let rebalanceRelay: KafkaRebalanceRelay
    let state = Mutex(State())
    /// Signalled when a hand-off drains the buffer while the poll thread waits for room.
    private let roomSignal = DispatchSemaphore(value: 0)
    /// Held while deliveries are made and yielded, outside the state lock; taken before it, so batches
    /// reach the stream in the order their tags were given.
    private let handOffOrder = Mutex(())
    private let finished = Latch()
    /// Fetcher wake-ups run off the poll thread (each waits for a broker's answer); the poll thread waits
    /// for the one in flight before it closes the consumer.
    private let wakeUps = DispatchGroup()
    private let wakeUpInFlight = Atomic<Bool>(false)
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
        rebalanceRelay = relay
        let context = RDKafkaClientContext(name: transport.name, logger: transport.context.logger) { relay.relay($0) }
        let properties = transport.properties.consumer(group: group)
        queuedMinMessages = max(1, properties["queued.min.messages"].flatMap(Int.init) ?? 100_000)
        queuedMaxBytes = max(1, properties["queued.max.messages.kbytes"].flatMap(Int.init) ?? 65_536) * 1024
        consumer = try RDKafkaConsumer(properties: properties, context: context)
        relay.connect(self)
        do {
            try consumer.subscribe([subscription.topic] + (retryTopic.map { [$0] } ?? []))
        } catch {
            consumer.close()
            relay.disconnect()
            throw error.from(transport: transport.name)
        }
    }

    /// Starts the poll thread and returns the stream. `onClose` runs once the subscription is closed.
    func start(onClose: @escaping @Sendable () -> Void) -> DeliveryStream {
        // Deliveries are made on the reader's task when it runs dry (`onDemand`), and by the poll thread
        // only while the reader waits: the poll thread is the consumer's bottleneck (it reads and decodes
        // every record), the reader mostly idles.
        let (stream, continuation) = DeliveryStream.make(
            onClose: { [self] in
                await close()
                onClose()
            },
            // Strong, as is the poll thread's hold: a weak reference would move this object's reference
            // counts to a side table, slower for every retain (one per settlement at least). The cycle
            // through the continuation ends when the poll loop lets the continuation go.
            onDemand: { [self] in handOut() }
        )
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
        roomSignal.signal()
        guard pollThreadRuns else {
            // Never started (the transport shut down while subscribing): nothing was handed out.
            if !closedWithoutPolling.exchange(true, ordering: .acquiringAndReleasing) {
                consumer.close()
                rebalanceRelay.disconnect()
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
        // `Thread.name` does not reach the kernel on Linux; named, the thread shows in top, perf and gdb.
        courier_name_current_thread("courier-kafka")
        var fullSince: ContinuousClock.Instant?
        // Reused every turn, so a turn's batch does not allocate (and fault in) a fresh buffer. Optional,
        // so ``ingest(_:)`` can move each entry out instead of copying it (a retain and a release each).
        var batch: [Entry?] = []
        batch.reserveCapacity(Self.readBatchLimit)
        var retired: [Entry] = []
        // Set when librdkafka's queue came near one of its limits (its fetchers may have stopped).
        var fetchingStopped = false
        // Payload bytes per record lately, to tell how near librdkafka's queue is to its size limit.
        var recordBytes = 0
        while !state.withLock({ $0.closing }) {
            startRetryPartitionsWhenDue()
            releaseRetired(&retired)
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
                    waitForRoom()
                    continue
                }
                pauseForBuffer()
            } else {
                fullSince = nil
                resumeAfterBuffer()
            }
            restartFetchingIfStopped(&fetchingStopped, recordBytes: recordBytes)
            read(
                upTo: max(room, 1), into: &batch, recycling: &retired,
                waitMilliseconds: state.withLock { $0.pendingCount == 0 && $0.held.isEmpty && $0.delayed.isEmpty } ? 100 : 10,
                fetchingStopped: &fetchingStopped, recordBytes: &recordBytes
            )
        }
        storeSettledOffsets()
        let continuation = state.withLock { state -> DeliveryStream.Continuation? in
            // Deliveries still out are redelivered to the group; settling them now fails. Queued entries
            // hold the subscription (through their turn): dropping them breaks that cycle.
            state.deliveriesEnded = true
            state.inFlightCount = 0
            state.pending = []
            state.pendingHead = 0
            state.held = [:]
            state.delayed = []
            state.retired = []
            defer { state.continuation = nil }
            return state.continuation
        }
        wakeUps.wait()
        consumer.commit()
        consumer.close()
        // After the close: leaving the group runs the revoke callback.
        rebalanceRelay.disconnect()
        continuation?.finish()
        finished.open()
    }

    /// How long the buffer may stay full before fetching is paused.
    static let readPauseGrace: Duration = .seconds(1)

    /// Releases the entries settled before the previous turn that ``read(upTo:into:recycling:waitMilliseconds:fetchingStopped:recordBytes:)``
    /// did not, on this thread, and takes those settled since. The poll thread allocated them (and the
    /// payload and id strings they share with their deliveries); freed by the handler's thread, every
    /// free would contend with this thread's mallocs for the allocator's arena lock, which profiles showed
    /// as the largest single cost of consuming. Kept one turn longer, they are mostly the last owner when
    /// the handler has dropped its batch.
    private func releaseRetired(_ retired: inout [Entry]) {
        retired.removeAll(keepingCapacity: true)
        state.withLock { swap(&$0.retired, &retired) }
    }

    /// Waits until a hand-off drained the buffer to half (or closing began), or at most a few
    /// milliseconds, so held retry copies and settled offsets are still looked after meanwhile.
    private func waitForRoom() {
        let full = state.withLock { state -> Bool in
            guard !state.closing, state.pendingCount >= bufferLimit else { return false }
            state.pollThreadWaitsForRoom = true
            return true
        }
        guard full else { return }
        _ = roomSignal.wait(timeout: .now() + .milliseconds(10))
        // A signal that raced the timeout only makes a later wait return early once.
        state.withLock { $0.pollThreadWaitsForRoom = false }
    }

    /// One `rd_kafka_consumer_poll` that waits, then more without waiting, up to `limit` messages,
    /// each decoded while librdkafka still holds it. `recordBytes` becomes the mean payload size of the
    /// turn's records (unchanged when it read none).
    ///
    /// Before each record is decoded one settled entry of `retired` is released. Mostly that frees it,
    /// with its envelope, payload and id, and the new record's allocations of the same sizes take those
    /// blocks straight back from malloc's per-thread cache; freed in bulk, a turn's entries overflow that
    /// cache and every free and allocation after it takes the slow path.
    private func read(
        upTo limit: Int, into batch: inout [Entry?], recycling retired: inout [Entry], waitMilliseconds: Int32,
        fetchingStopped: inout Bool, recordBytes: inout Int
    ) {
        batch.removeAll(keepingCapacity: true)
        let turn = ReadTurn(self)
        var payloadBytes = 0
        // Appends straight to the batch: a record returned through the poll's result would be copied out of it.
        func decode(_ record: RDKafkaMessageView) {
            payloadBytes += record.payload.count
            _ = retired.popLast()
            batch.append(Self.entry(record, turn: turn))
        }
        var result = consumer.poll(timeoutMilliseconds: waitMilliseconds, decode: decode)
        if case .record = result {
            // The first record's size stands for the queue's until the turn's mean is known.
            if recordBytes == 0 { recordBytes = payloadBytes }
            if !fetchingStopped { fetchingStopped = queueNearLimit(recordBytes: recordBytes) }
        }
        while true {
            if case .error(let code, let message) = result { report(code, message) }
            guard case .record = result, batch.count < min(limit, Self.readBatchLimit) else { break }
            result = consumer.poll(timeoutMilliseconds: 0, decode: decode)
        }
        if !batch.isEmpty {
            recordBytes = payloadBytes / batch.count
            ingest(&batch)
        }
        batch.removeAll(keepingCapacity: true)
    }

    /// librdkafka 2.0 stops fetching a partition while `queued.min.messages` messages or
    /// `queued.max.messages.kbytes` of payload are queued, and its fetcher threads only look again when
    /// something else wakes them, up to a second later: a consumer faster than that many messages a
    /// second idled most of the time while catching up (measured: 210,000 queued messages read at 190,000
    /// msg/s, three quarters of the time waiting on an empty queue; and 20,000 messages of 2 KB at 9,900
    /// msg/s with an 8 MB queue, when only the message count was watched). Once the queue came near
    /// either limit (see ``queueNearLimit(recordBytes:)``) and has drained to ``restartFill`` of it, the
    /// fetchers are woken (one small request per broker), so fetching resumes before the queue runs dry.
    /// The request is sent from another thread, so this one goes on reading while the brokers answer.
    /// librdkafka 2.3 added `fetch.queue.backoff.ms` for this.
    private func restartFetchingIfStopped(_ fetchingStopped: inout Bool, recordBytes: Int) {
        guard fetchingStopped, queueFill(consumer.queuedMessages, recordBytes: recordBytes) <= Self.restartFill else { return }
        // One at a time; while one is out, a later turn tries again.
        guard !wakeUpInFlight.exchange(true, ordering: .acquiringAndReleasing) else { return }
        fetchingStopped = false
        let partitions = state.withLock { Array($0.assignments.keys) }
        wakeUps.enter()
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            consumer.wakeFetchers(for: partitions, timeoutMilliseconds: 50)
            wakeUpInFlight.store(false, ordering: .releasing)
            wakeUps.leave()
        }
    }

    /// How far librdkafka's queue drains (as a fraction of its nearer limit) before its fetchers are
    /// woken: early enough that the brokers answer before it runs dry. Measured on the mock cluster
    /// (100,000 x 256 B, one core, `queued.min.messages=10000`): waking at half, from the poll thread,
    /// read 0.58 - 0.60x raw C's rate; at three quarters, from another thread, 0.62 - 0.68x.
    static let restartFill = 0.75

    /// Whether librdkafka's queue, just after a poll returned a record, is near one of its limits: its
    /// fetchers may have stopped. Within a tenth of it, as one fetch response can take the queue past
    /// the limit and this thread drain it back below before it looks.
    private func queueNearLimit(recordBytes: Int) -> Bool {
        queueFill(consumer.queuedMessages, recordBytes: recordBytes) >= 0.9
    }

    /// How full librdkafka's queue of `queued` messages is against the nearer of its two fetch limits
    /// (1: fetching stops). librdkafka 2.0 tells only the count; the size is the count times the payload
    /// bytes of the records read lately.
    private func queueFill(_ queued: Int, recordBytes: Int) -> Double {
        let byCount = Double(queued) / Double(queuedMinMessages)
        let bySize = Double(queued) * Double(recordBytes) / Double(queuedMaxBytes)
        return max(byCount, bySize)
    }

    /// A record decoded straight into the entry that will carry it (the decoded envelope moves in, it is
    /// not copied).
    private static func entry(_ record: RDKafkaMessageView, turn: ReadTurn) -> Entry {
        // Lent to the closure without a reference count (the caller holds the turn throughout): captured,
        // it cost a retain and a release per record.
        let lent = Unmanaged.passUnretained(turn)
        return KafkaRecordDecoding.decode(record) { envelope, key, deliveryCount, due in
            Entry(
                location: record.location, offset: record.offset, envelope: envelope, key: key, deliveryCount: deliveryCount, due: due,
                turn: lent.takeUnretainedValue()
            )
        }
    }

    /// The most messages one poll turn reads before handing them over.
    static let readBatchLimit = 1000

    /// Stores the commit points settlements moved, in one call for all partitions. Runs on the poll
    /// thread, so a revoke or close always stores before it commits.
    func storeSettledOffsets() {
        let offsets = state.withLock { state -> [(KafkaPartition, Int64)] in
            guard !state.toStore.isEmpty else { return [] }
            defer { state.toStore = [] }
            return state.toStore.compactMap { assignment in
                defer { assignment.toStore = nil }
                return assignment.toStore.map { (assignment.location, $0) }
            }
        }
        consumer.storeOffsets(offsets)
    }

    private func report(_ code: rd_kafka_resp_err_t, _ message: String) {
        logger.debug("Kafka consumer: \(message)", metadata: ["transport": transportName, "group": group, "code": RDKafkaError.name(code)])
    }

    /// Takes a batch from librdkafka: tracks every offset, holds retry copies that are not yet due
    /// (pausing their partition), queues the rest and hands out what prefetch allows.
    private func ingest(_ batch: inout [Entry?]) {
        let now = clock.wallClockNow()
        let toPause = state.withLock { state -> [KafkaPartition] in
            var toPause: [KafkaPartition] = []
            state.pending.reserveCapacity(state.pending.count + batch.count)
            // Records come in runs from one partition: look its assignment up once per run. Reached
            // through optional chaining, which borrows it (a binding per record would retain it).
            var runLocation: KafkaPartition?
            var runAssignment: Assignment?
            for index in batch.indices {
                guard let entry = batch[index].take() else { continue }
                let location = entry.location
                if runLocation != location {
                    runLocation = location
                    runAssignment = state.assignments[location]
                }
                guard runAssignment?.progress.track(entry.offset) != nil else { continue }
                entry.assignment = runAssignment
                if let due = entry.due, due > now || state.held[location] != nil {
                    if state.held[location] == nil { toPause.append(location) }
                    state.held[location, default: []].append(entry)
                } else {
                    state.pending.append(entry)
                }
            }
            return toPause
        }
        handOutIfAwaited()
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
                    if !state.pausedForBuffer.contains(location), state.retryPartitionsWaiting?.partitions.contains(location) != true {
                        toResume.append(location)
                    }
                } else {
                    state.held[location] = Array(queue.dropFirst(ready.count))
                }
            }
            if !state.delayed.isEmpty {
                state.pending.append(contentsOf: state.delayed.filter { ($0.due ?? now) <= now }.map(Optional.some))
                state.delayed.removeAll { ($0.due ?? now) <= now }
            }
            return toResume
        }
        handOutIfAwaited()
        consumer.resume(toResume)
    }

    /// On the poll thread: hands out only while the reader waits. Any other time the reader asks itself
    /// once it runs dry (the stream's `onDemand`), so deliveries are made on its thread, not on this one.
    /// Entries are queued before the check and the reader registers before it asks, so one of the two
    /// always sees them.
    private func handOutIfAwaited() {
        guard let continuation = state.withLock({ $0.continuation }), continuation.isAwaited else { return }
        handOut()
    }

    /// Pauses every assigned partition not paused already (the buffer stayed full too long).
    private func pauseForBuffer() {
        let toPause = state.withLock { state -> [KafkaPartition] in
            let newly = Set(state.assignments.keys).subtracting(state.pausedForBuffer).subtracting(state.held.keys)
                .subtracting(state.retryPartitionsWaiting?.partitions ?? [])
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
            return Array(
                state.pausedForBuffer.intersection(state.assignments.keys).subtracting(state.held.keys)
                    .subtracting(state.retryPartitionsWaiting?.partitions ?? [])
            )
        }
        consumer.resume(toResume)
    }

    /// Hands out queued deliveries while fewer than `prefetch` are unsettled, as one batch (one hand-off
    /// to the stream, whatever its size). The entries get their tags and go in flight under the state
    /// lock and are yielded after it; `handOffOrder` keeps batches in tag order on the stream.
    func handOut() {
        handOffOrder.withLock { _ in
            let taken = state.withLock { state -> (DeliveryStream.Continuation, [Delivery])? in
                guard let continuation = state.continuation, !state.closing else { return nil }
                let room = subscription.prefetch - state.inFlightCount
                guard room > 0, state.pendingHead < state.pending.count else { return nil }
                var taken: [Delivery] = []
                taken.reserveCapacity(min(room, state.pending.count - state.pendingHead))
                while state.inFlightCount < subscription.prefetch, state.pendingHead < state.pending.count {
                    // Moved out: the slot is done with.
                    guard let entry = state.pending[state.pendingHead].take() else {
                        state.pendingHead += 1
                        continue
                    }
                    state.pendingHead += 1
                    // Read under an assignment since revoked: it belongs to another member now.
                    guard entry.assignment?.revoked == false else { continue }
                    state.nextTag += 1
                    entry.tag = state.nextTag
                    entry.phase = .inFlight
                    state.inFlightCount += 1
                    taken.append(Delivery(handle: entry))
                }
                if state.pendingHead > 1024, state.pendingHead * 2 > state.pending.count {
                    state.pending.removeFirst(state.pendingHead)
                    state.pendingHead = 0
                }
                if state.pollThreadWaitsForRoom, state.pendingCount <= bufferLimit / 2 {
                    state.pollThreadWaitsForRoom = false
                    roomSignal.signal()
                }
                return (continuation, taken)
            }
            guard let (continuation, deliveries) = taken, !deliveries.isEmpty else { return }
            continuation.yield(contentsOf: deliveries)
        }
    }

    /// Whether a settlement should hand out more at once: when prefetch is small, or half of it is free.
    /// Otherwise the reader does when it runs dry (the stream's `onDemand`), or the poll thread's next
    /// turn while the reader waits, so a busy subscription hands out batches instead of one delivery per
    /// settlement.
    func shouldRefill(_ state: State) -> Bool {
        state.pendingCount > 0 && (state.inFlightCount <= subscription.prefetch / 2 || subscription.prefetch <= 16)
    }

    /// How long a group subscription's retry-topic partitions stay paused after an assignment.
    ///
    /// A broker answers a fetch for partitions without new data only after `fetch.wait.max.ms`, and
    /// librdkafka sends one fetch at a time per broker. Right after an assignment each partition starts
    /// fetching once its offset is known; when a broker's first fetch holds only (usually empty)
    /// retry-topic partitions, that broker's topic partitions wait behind it. Starting the retry
    /// partitions a little later lets every first fetch carry the topic's own partitions. Retry copies
    /// wait at least this long after a rebalance, which is short beside their delays.
    static let retryTopicStartDelay: Duration = .milliseconds(500)

    /// Pauses the retry-topic partitions among `partitions`, just assigned, until
    /// ``retryTopicStartDelay`` has passed. A paused partition keeps its committed offset: librdkafka
    /// starts it from there when it is resumed.
    private func holdRetryPartitions(of partitions: [KafkaPartition]) {
        guard let retryTopic else { return }
        let retryPartitions = partitions.filter { $0.topic == retryTopic }
        guard !retryPartitions.isEmpty else { return }
        consumer.pause(retryPartitions)
        state.withLock { $0.retryPartitionsWaiting = (Set(retryPartitions), .now + Self.retryTopicStartDelay) }
    }

    /// Resumes the retry-topic partitions ``holdRetryPartitions(of:)`` paused, once their time has come;
    /// while the buffer is full they wait for it to drain with the rest.
    private func startRetryPartitionsWhenDue() {
        let toResume = state.withLock { state -> [KafkaPartition] in
            guard let waiting = state.retryPartitionsWaiting, ContinuousClock.now >= waiting.until else { return [] }
            state.retryPartitionsWaiting = nil
            let assigned = Array(waiting.partitions.filter { state.assignments[$0] != nil })
            guard state.pausedForBuffer.isEmpty else {
                state.pausedForBuffer.formUnion(assigned)
                return []
            }
            return assigned
        }
        consumer.resume(toResume)
    }

    /// The partitions assigned to this member right now.
    var assignedPartitions: [KafkaPartition] {
        state.withLock { Array($0.assignments.keys) }.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    // MARK: Rebalances (on the poll thread, inside rd_kafka_consumer_poll)

    func rebalanced(_ event: RDKafkaRebalance) {
        switch event {
        case .assign(let partitions):
            state.withLock { state in
                for partition in partitions {
                    state.assignments[partition]?.revoked = true
                    state.assignments[partition] = Assignment(partition)
                }
            }
            logger.debug("Kafka consumer assigned \(partitions.map(\.description).joined(separator: ", "))", metadata: ["transport": transportName, "group": group])
        case .assigned(let partitions):
            holdRetryPartitions(of: partitions)
        case .revoke(let partitions):
            let wasPaused = state.withLock { state -> [KafkaPartition] in
                var paused: [KafkaPartition] = []
                for partition in partitions {
                    state.assignments.removeValue(forKey: partition)?.revoked = true
                    let waited = state.retryPartitionsWaiting?.partitions.remove(partition) != nil
                    if state.held.removeValue(forKey: partition) != nil || state.pausedForBuffer.remove(partition) != nil || waited {
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

/// Lets the rebalance callback reach a subscription that is created after its consumer's context. It
/// holds the subscription strongly (a weak reference would put the subscription's reference counts in a
/// side table, slower for every retain), so the subscription disconnects it once its consumer is closed:
/// subscription, consumer, context and relay form a cycle until then.
final class KafkaRebalanceRelay: Sendable {
    private let target = Mutex<KafkaSubscription?>(nil)

    func connect(_ subscription: KafkaSubscription) { target.withLock { $0 = subscription } }
    func disconnect() { target.withLock { $0 = nil } }
    func relay(_ event: RDKafkaRebalance) { target.withLock { $0 }?.rebalanced(event) }
}
