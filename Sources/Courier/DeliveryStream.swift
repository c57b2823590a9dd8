import Synchronization

/// The deliveries of one subscription, as an `AsyncSequence`.
///
/// The sequence ends when the subscription is closed (by ``close()``, by the transport's shutdown, or by
/// cancelling the task that iterates it) and throws ``CourierError/Code/subscriptionLost`` when the
/// transport loses it. Unsettled deliveries go back to the broker when the subscription closes.
///
/// The hand-off is batched: a transport yields everything one poll of its broker returned under one lock,
/// and the iterator takes everything waiting in one step, so a busy subscription costs one suspension per
/// batch, not one per message (per-message async hops are what make a client many times slower than the
/// C library underneath). Iterate it from one task at a time, and from a nonisolated async function or
/// task rather than the main actor (a `main.swift`'s top-level code runs there): on an actor, every
/// `ack()` leaves the actor's thread and comes back, two thread switches per message (reading 100,000
/// messages from the memory transport took 49 µs each from top-level code, 1.9 µs from a nonisolated
/// function).
public struct DeliveryStream: AsyncSequence, Sendable {
    public typealias Element = Delivery
    public typealias Failure = any Error

    private let reader: DeliveryReader
    private var buffer: DeliveryBuffer { reader.buffer }

    /// Makes a stream and the continuation a transport feeds it through. `onClose` runs once, when the
    /// consumer closes the stream or cancels the task iterating it. `onDemand`, when given, runs on the
    /// iterating task each time it finds nothing queued and is about to wait: a transport can then make
    /// deliveries on the reader's thread rather than on its own I/O thread, yielding from its I/O thread
    /// only while ``Continuation/isAwaited``.
    public static func make(
        onClose: @escaping @Sendable () async -> Void,
        onDemand: (@Sendable () -> Void)? = nil
    ) -> (stream: DeliveryStream, continuation: Continuation) {
        let buffer = DeliveryBuffer(onClose: OnceAction(onClose), onDemand: onDemand)
        return (DeliveryStream(reader: DeliveryReader(buffer)), Continuation(buffer: buffer))
    }

    private init(reader: DeliveryReader) { self.reader = reader }

    /// Ends the subscription; its unsettled deliveries go back to the broker.
    public func close() async {
        buffer.finish(throwing: nil)
        await buffer.onClose.run()
    }

    public func makeAsyncIterator() -> Iterator { Iterator(reader: reader) }

    /// Reads a ``DeliveryStream`` one delivery or one batch at a time.
    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = Delivery
        public typealias Failure = any Error

        private let reader: DeliveryReader
        private var buffer: DeliveryBuffer { reader.buffer }
        /// What this iterator took from the buffer and has not returned yet.
        private let unread: UnreadDeliveries

        fileprivate init(reader: DeliveryReader) {
            self.reader = reader
            unread = UnreadDeliveries(buffer: reader.buffer)
        }

        /// The next delivery, or `nil` once the stream has ended and everything before the end was read.
        public mutating func next() async throws -> Delivery? {
            if unread.position == unread.batch.count {
                guard let more = try await buffer.take() else { return nil }
                unread.batch = more
                unread.position = 0
            }
            defer { unread.position += 1 }
            return unread.batch[unread.position]
        }

        /// Every delivery that is ready now (waiting for at least one), or `nil` once the stream has ended.
        /// Pipelines that hand deliveries to workers use this to pay one suspension per batch.
        public mutating func nextBatch() async throws -> [Delivery]? {
            if unread.position < unread.batch.count {
                defer { unread.batch = []; unread.position = 0 }
                return Array(unread.batch[unread.position...])
            }
            return try await buffer.take()
        }
    }

    /// How a transport feeds a ``DeliveryStream``. Safe to call from any thread.
    public struct Continuation: Sendable {
        fileprivate let buffer: DeliveryBuffer

        /// Whether the stream still takes deliveries.
        public enum YieldResult: Sendable, Equatable {
            /// Queued for the subscriber.
            case enqueued
            /// The subscriber has gone (closed or cancelled): the deliveries were not queued and must go
            /// back to the broker.
            case terminated
        }

        /// Whether the iterating task waits for deliveries right now (it found none queued). A transport
        /// that made the stream with an `onDemand` action yields from elsewhere only then; any other time the
        /// iterator asks through `onDemand` once it runs dry.
        public var isAwaited: Bool { buffer.isAwaited }

        /// Queues one delivery.
        @discardableResult
        public func yield(_ delivery: Delivery) -> YieldResult { buffer.append(CollectionOfOne(delivery)) }

        /// Queues several deliveries with one hand-off.
        @discardableResult
        public func yield(contentsOf deliveries: some Collection<Delivery>) -> YieldResult { buffer.append(deliveries) }

        /// Queues one delivery like ``yield(_:)``, but leaves waking a waiting iterator to the caller: run
        /// the returned ``WakeUp`` exactly once, after releasing any lock held around this call. A transport
        /// that yields under its own lock then does not pay for waking a task there, and the woken task does
        /// not find the lock still held. The delivery's place in the stream is fixed by this call.
        public func yieldWakingLater(_ delivery: Delivery) -> (result: YieldResult, wakeUp: WakeUp?) {
            buffer.appendWakingLater(delivery)
        }

        /// Ends the stream, after the deliveries already queued; with an error, the iterator throws it then.
        public func finish(throwing error: (any Error)? = nil) { buffer.finish(throwing: error) }
    }

    /// An iterator to resume with the deliveries queued for it (see ``Continuation/yieldWakingLater(_:)``).
    public struct WakeUp: Sendable {
        fileprivate let waiter: CheckedContinuation<[Delivery]?, any Error>
        fileprivate let batch: [Delivery]

        /// Resumes the iterator. Call exactly once.
        public func run() { waiter.resume(returning: batch) }
    }
}

/// Held by the stream and its iterators: when the subscriber lets go of all of them without closing, the
/// subscription closes as if cancelled (as `AsyncStream` does), so its unsettled deliveries go back.
final class DeliveryReader: Sendable {
    let buffer: DeliveryBuffer
    init(_ buffer: DeliveryBuffer) { self.buffer = buffer }
    deinit { buffer.cancel() }
}

/// The deliveries one iterator took from the buffer in a batch and has not returned yet. When the
/// iterator is let go with some left (a `for try await` loop that ends with `break`), they go back to the
/// front of the buffer for the next iterator, instead of staying out unsettled and holding prefetch.
/// Used by one iterating task at a time, as the iterator is (so the run-time exclusivity check, two per
/// delivery read, is left out).
final class UnreadDeliveries {
    private let buffer: DeliveryBuffer
    @exclusivity(unchecked) var batch: [Delivery] = []
    @exclusivity(unchecked) var position = 0

    init(buffer: DeliveryBuffer) { self.buffer = buffer }

    deinit {
        if position < batch.count { buffer.putBack(Array(batch[position...])) }
    }
}

/// The lock-protected queue between a transport and the task iterating its stream.
final class DeliveryBuffer: Sendable {
    let onClose: OnceAction
    private let onDemand: (@Sendable () -> Void)?
    private let state = Mutex(State())

    private struct State {
        var pending: [Delivery] = []
        var waiter: CheckedContinuation<[Delivery]?, any Error>?
        /// Set once: `.some(nil)` ended normally, `.some(error)` ended with an error.
        var end: (any Error)?? = nil
        var endDelivered = false
        var cancelled = false
    }

    init(onClose: OnceAction, onDemand: (@Sendable () -> Void)?) {
        self.onClose = onClose
        self.onDemand = onDemand
    }

    var isAwaited: Bool { state.withLock { $0.waiter != nil } }

    func append(_ deliveries: some Collection<Delivery>) -> DeliveryStream.Continuation.YieldResult {
        guard !deliveries.isEmpty else { return state.withLock { $0.end == nil ? .enqueued : .terminated } }
        let resume = state.withLock { state -> (CheckedContinuation<[Delivery]?, any Error>, [Delivery])? in
            guard state.end == nil else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, Array(deliveries))
            }
            if state.pending.isEmpty {
                // Takes a transport's array as it is (no copy of each delivery) when nothing waits before it.
                state.pending = Array(deliveries)
            } else {
                state.pending.append(contentsOf: deliveries)
            }
            return nil
        }
        guard let (waiter, batch) = resume else {
            return state.withLock { $0.end == nil } ? .enqueued : .terminated
        }
        waiter.resume(returning: batch)
        return .enqueued
    }

    func appendWakingLater(_ delivery: Delivery) -> (result: DeliveryStream.Continuation.YieldResult, wakeUp: DeliveryStream.WakeUp?) {
        state.withLock { state in
            guard state.end == nil else { return (.terminated, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (.enqueued, DeliveryStream.WakeUp(waiter: waiter, batch: [delivery]))
            }
            state.pending.append(delivery)
            return (.enqueued, nil)
        }
    }

    func finish(throwing error: (any Error)?) {
        let waiter = state.withLock { state -> CheckedContinuation<[Delivery]?, any Error>? in
            guard state.end == nil else { return nil }
            state.end = .some(error)
            guard state.pending.isEmpty, let waiter = state.waiter else { return nil }
            state.waiter = nil
            state.endDelivered = true
            return waiter
        }
        if let waiter {
            if let error { waiter.resume(throwing: error) } else { waiter.resume(returning: nil) }
        }
        // The transport ended it: release the subscription's resources as a close would.
        let onClose = onClose
        Task { await onClose.run() }
    }

    /// Deliveries an iterator took but did not return, back at the front of the queue (or to a waiting
    /// iterator). Once the stream was cancelled they are dropped: the close sends them back to the broker.
    func putBack(_ deliveries: [Delivery]) {
        let waiter = state.withLock { state -> CheckedContinuation<[Delivery]?, any Error>? in
            guard !state.cancelled, !state.endDelivered else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending.insert(contentsOf: deliveries, at: 0)
            return nil
        }
        waiter?.resume(returning: deliveries)
    }

    /// Everything queued, waiting for at least one delivery; `nil` at the end.
    func take() async throws -> [Delivery]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Delivery]?, any Error>) in
                let outcome = state.withLock { state -> Result<[Delivery]?, any Error>? in
                    if state.cancelled { return .success(nil) }
                    if !state.pending.isEmpty {
                        defer { state.pending = [] }
                        return .success(state.pending)
                    }
                    if let end = state.end {
                        if state.endDelivered { return .success(nil) }
                        state.endDelivered = true
                        if let error = end { return .failure(error) }
                        return .success(nil)
                    }
                    state.waiter = continuation
                    return nil
                }
                if let outcome {
                    continuation.resume(with: outcome)
                } else {
                    // Registered as the waiter first, so whatever the transport yields now reaches it.
                    onDemand?()
                }
            }
        } onCancel: {
            cancel()
        }
    }

    /// The iterating task was cancelled, or the subscriber let go of the stream: end it and close the
    /// subscription.
    func cancel() {
        let waiter = state.withLock { state -> CheckedContinuation<[Delivery]?, any Error>? in
            state.cancelled = true
            // Deliveries not read yet go back to the broker with the close.
            state.pending = []
            if state.end == nil { state.end = .some(nil) }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
        let onClose = onClose
        Task { await onClose.run() }
    }
}
