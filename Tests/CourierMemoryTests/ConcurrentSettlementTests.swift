import Courier
import CourierMemory
import Synchronization
import Testing

/// Settlements hand the next deliveries out under the broker's lock but wake the subscriber after
/// releasing it; these check that nothing the lock guarantees is lost when many tasks settle at once.
@Suite("Memory transport: settling from many tasks at once", .timeLimit(.minutes(1)))
struct ConcurrentSettlementTests {
    /// In-flight books kept by an observer, which runs under the broker's lock and so sees every hand-out
    /// and settlement in the order the broker made them.
    final class InFlightBooks: Sendable {
        private struct Books {
            var unsettled = 0
            var mostUnsettled = 0
            var keysInFlight: [String: Int] = [:]
            var keyCollisions = 0
            var deliveredPerKey: [String: [String]] = [:]
        }

        private let books = Mutex(Books())

        func note(_ event: MemoryEvent) {
            books.withLock { books in
                switch event {
                case .delivered(let envelope, _, _, _):
                    books.unsettled += 1
                    books.mostUnsettled = max(books.mostUnsettled, books.unsettled)
                    if let key = envelope.orderingKey {
                        if books.keysInFlight[key, default: 0] > 0 { books.keyCollisions += 1 }
                        books.keysInFlight[key, default: 0] += 1
                        books.deliveredPerKey[key, default: []].append(envelope.id)
                    }
                case .settled(let envelope, _, _, _):
                    books.unsettled -= 1
                    if let key = envelope.orderingKey { books.keysInFlight[key, default: 1] -= 1 }
                default:
                    break
                }
            }
        }

        var mostUnsettled: Int { books.withLock { $0.mostUnsettled } }
        var keyCollisions: Int { books.withLock { $0.keyCollisions } }
        var deliveredPerKey: [String: [String]] { books.withLock { $0.deliveredPerKey } }
    }

    @Test func prefetchAndOrderPerKeyHoldWhileManyTasksAck() async throws {
        let fixture = try await MemoryFixture(options: MemoryBrokerOptions(capacity: 10_000))
        let books = InFlightBooks()
        let token = fixture.broker.observe { books.note($0) }
        let keys = ["a", "b", "c", "d", "e"]
        let total = 2_000
        for index in 0..<total {
            try await fixture.publish("m\(index)", key: index % 3 == 0 ? nil : keys[index % keys.count])
        }
        let prefetch = 8
        let stream = try await fixture.subscribe(prefetch: prefetch)

        // One task reads; sixteen ack what it read, as a consumer's handlers do.
        let (work, feed) = AsyncStream.makeStream(of: Delivery.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    for await delivery in work { try await delivery.ack() }
                }
            }
            var read = 0
            for try await delivery in stream {
                feed.yield(delivery)
                read += 1
                if read == total { break }
            }
            feed.finish()
            try await group.waitForAll()
        }
        await stream.close()
        await token.cancel()

        #expect(books.mostUnsettled <= prefetch)
        #expect(books.keyCollisions == 0)
        for key in keys {
            let ids = (0..<total).filter { $0 % 3 != 0 && keys[$0 % keys.count] == key }.map { "m\($0)" }
            #expect(books.deliveredPerKey[key] == ids, "key \(key) was delivered out of order")
        }
        #expect(fixture.broker.unsettledCount(topic: "orders") == 0)
    }

    @Test func aSubscriberWaitingForMoreIsWokenByAnotherTasksAck() async throws {
        let fixture = try await MemoryFixture()
        let stream = try await fixture.subscribe(prefetch: 1)
        try await fixture.publish("m1")
        try await fixture.publish("m2")
        var deliveries = stream.makeAsyncIterator()
        let first = try await deliveries.take()

        // The reader waits on an empty stream; the ack in another task hands m2 out and must wake it.
        async let acked: Void = Task {
            try await Task.sleep(for: .milliseconds(20))
            try await first.ack()
        }.value
        let second = try await deliveries.take()
        try await acked
        #expect(second.envelope.id == "m2")
    }
}
