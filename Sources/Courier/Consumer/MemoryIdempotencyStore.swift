import Synchronization

/// An in-memory ``IdempotencyStore``: bounded (the oldest completed keys are forgotten first) and with a
/// time to live on the given clock. Not durable: use the SQLite store when duplicates may arrive after a
/// restart.
public final class MemoryIdempotencyStore: IdempotencyStore {
    public let capacity: Int
    public let timeToLive: Duration
    private let clock: any CourierClock
    private let state = Mutex(StoreState())

    private struct StoreState {
        var entries: [String: Entry] = [:]
        /// Completed keys in completion order, for eviction beyond capacity.
        var completionOrder: [String] = []
        var completionStart = 0
    }

    private enum Entry {
        /// Only while a claim looks a new key up (see ``claimImmediately(_:lease:holder:)``); never stored.
        case vacant
        case inProgress(until: ClockInstant, holder: IdempotencyHolder)
        case completed(until: ClockInstant)
    }

    public init(capacity: Int = 100_000, timeToLive: Duration = .seconds(24 * 3600), clock: any CourierClock = SystemClock()) {
        self.capacity = max(1, capacity)
        self.timeToLive = timeToLive
        self.clock = clock
        // Room for a full store up front (bounded), so a filling store does not rehash every key as it
        // grows: that was a third of the consumer pipeline's cost in `courier bench consumer`.
        state.withLock { $0.entries.reserveCapacity(min(self.capacity, 1 << 17)) }
    }

    public func claim(_ key: String, lease: Duration, holder: IdempotencyHolder) async throws -> IdempotencyClaim {
        claimImmediately(key, lease: lease, holder: holder)
    }

    public func complete(_ key: String) async throws {
        completeImmediately(key)
    }

    /// ``claim(_:lease:holder:)`` without the async call (the consumer's per-message path). Never inlined:
    /// in an async caller its locals would each be a task allocation.
    @inline(never)
    func claimImmediately(_ key: String, lease: Duration, holder: IdempotencyHolder) -> IdempotencyClaim {
        let now = clock.now()
        return state.withLock { state in
            // One lookup reads the entry and, for a new or lapsed key, writes the claim in place.
            Self.claim(&state.entries[key, default: .vacant], now: now, lease: lease, holder: holder)
        }
    }

    private static func claim(_ entry: inout Entry, now: ClockInstant, lease: Duration, holder: IdempotencyHolder) -> IdempotencyClaim {
        switch entry {
        case .completed(let until) where until > now: return .completed
        case .inProgress(let until, _) where until > now: return .inProgress
        case .vacant, .completed, .inProgress:
            entry = .inProgress(until: now + lease, holder: holder)
            return .claimed
        }
    }

    /// ``complete(_:)`` without the async call (never inlined, as ``claimImmediately(_:lease:holder:)``).
    @inline(never)
    func completeImmediately(_ key: String) {
        let until = clock.now() + timeToLive
        state.withLock { state in
            state.entries[key] = .completed(until: until)
            state.completionOrder.append(key)
            evict(&state)
        }
    }

    public func release(_ key: String, holder: IdempotencyHolder) async throws {
        state.withLock { state in
            guard case .inProgress(_, let owner) = state.entries[key], holder == .anyone || owner == holder else { return }
            state.entries[key] = nil
        }
    }

    /// Keys remembered right now (in progress or completed).
    public var count: Int { state.withLock { $0.entries.count } }

    private func evict(_ state: inout StoreState) {
        while state.completionOrder.count - state.completionStart > capacity {
            let key = state.completionOrder[state.completionStart]
            state.completionStart += 1
            if case .completed = state.entries[key] { state.entries[key] = nil }
        }
        // Compact the order list now and then so it does not grow without bound.
        if state.completionStart > capacity {
            state.completionOrder.removeFirst(state.completionStart)
            state.completionStart = 0
        }
    }
}
