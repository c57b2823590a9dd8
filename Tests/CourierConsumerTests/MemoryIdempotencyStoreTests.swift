import Courier
import Testing

@Suite("MemoryIdempotencyStore", .timeLimit(.minutes(1)))
struct MemoryIdempotencyStoreTests {
    @Test("a late release does not free the claim a twin took after the lease lapsed")
    func lateReleaseKeepsTheTwinsClaim() async throws {
        let clock = VirtualClock()
        let store = MemoryIdempotencyStore(clock: clock)
        let slow = IdempotencyHolder(token: 11), twin = IdempotencyHolder(token: 22), third = IdempotencyHolder(token: 33)
        #expect(try await store.claim("order-1", lease: .seconds(30), holder: slow) == .claimed)
        clock.advance(by: .seconds(30))
        #expect(try await store.claim("order-1", lease: .seconds(30), holder: twin) == .claimed)
        try await store.release("order-1", holder: slow)
        #expect(try await store.claim("order-1", lease: .seconds(30), holder: third) == .inProgress)
        try await store.release("order-1", holder: twin)
        #expect(try await store.claim("order-1", lease: .seconds(30), holder: third) == .claimed)
        try await store.release("order-1", holder: .anyone)
        #expect(store.count == 0)
    }

    @Test("a release never forgets a completed key, and TTL and capacity bound what is remembered")
    func completedKeysStayUntilExpiryOrEviction() async throws {
        let clock = VirtualClock()
        let store = MemoryIdempotencyStore(capacity: 2, timeToLive: .seconds(60), clock: clock)
        for key in ["a", "b", "c"] {
            #expect(try await store.claim(key, lease: .seconds(5)) == .claimed)
            try await store.complete(key)
        }
        try await store.release("c", holder: .anyone)
        #expect(try await store.claim("c", lease: .seconds(5)) == .completed)
        // Capacity 2: the oldest completed key was forgotten.
        #expect(try await store.claim("a", lease: .seconds(5)) == .claimed)
        clock.advance(by: .seconds(60))
        #expect(try await store.claim("b", lease: .seconds(5)) == .claimed)
    }
}
