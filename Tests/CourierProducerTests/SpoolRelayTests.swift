import Courier
import CourierMemory
import CourierSQLite
import Testing

@Suite("producer: durable spool and relay", .timeLimit(.minutes(1)))
struct SpoolRelayTests {
    @Test("with every transport down, publishes are spooled; once one is up the relay drains them in order")
    func spoolsThenDrainsInOrder() async throws {
        let file = TemporarySpoolFile()
        defer { file.remove() }
        let fixture = try await ProducerFixture()
        let spool = try await SQLiteSpool.open(path: file.path, clock: fixture.clock)
        let producer = fixture.producer(configuration: ProducerFixture.configuration(maxAttempts: 1), spool: spool)
        let events = EventLog(producer)
        fixture.brokers.forEach { $0.inject(.down) }

        var receipts: [PublishReceipt] = []
        for index in 0..<6 {
            receipts.append(try await producer.publish(Envelope(topic: "orders", text: "\(index)", id: "m-\(index)")))
        }
        #expect(receipts.allSatisfy { $0.isSpooled })
        #expect(receipts.map(\.messageID) == (0..<6).map { "m-\($0)" })
        #expect(try await spool.depth().messages == 6)
        #expect(producer.statistics.spooled == 6)

        let advancing = autoAdvance(fixture.clock)
        let relay = Task { try await producer.run() }
        fixture.brokers[1].inject(.up)
        let ids = try await consumeIDs(fixture.transports[1], topic: "orders", count: 6)
        #expect(ids == (0..<6).map { "m-\($0)" })
        while try await spool.depth().messages > 0 || producer.statistics.drainedFromSpool < 6 { await Task.yield() }
        #expect(producer.statistics.drainedFromSpool == 6)
        #expect(events.all.filter { if case .drained = $0 { true } else { false } }.count == 6)

        await producer.shutdown()
        try await relay.value
        advancing.cancel()
        await spool.close()
        await fixture.shutdown()
    }

    @Test("while the spool holds messages, new publishes queue behind them so order is kept")
    func newPublishesQueueBehindBacklog() async throws {
        let file = TemporarySpoolFile()
        defer { file.remove() }
        let fixture = try await ProducerFixture(names: ["only"])
        let spool = try await SQLiteSpool.open(path: file.path, clock: fixture.clock)
        let producer = fixture.producer(configuration: ProducerFixture.configuration(maxAttempts: 1), spool: spool)
        fixture.brokers[0].inject(.down)
        _ = try await producer.publish(Envelope(topic: "orders", text: "a", id: "first"))
        fixture.brokers[0].inject(.up)
        // The broker is up, but "first" still waits in the spool: "second" must not overtake it.
        let second = try await producer.publish(Envelope(topic: "orders", text: "b", id: "second"))
        #expect(second.isSpooled)

        let advancing = autoAdvance(fixture.clock)
        let relay = Task { try await producer.run() }
        let ids = try await consumeIDs(fixture.transports[0], topic: "orders", count: 2)
        #expect(ids == ["first", "second"])
        await producer.shutdown()
        try await relay.value
        advancing.cancel()
        await spool.close()
        await fixture.shutdown()
    }

    @Test("a restarted producer drains what an earlier one left in the spool file")
    func drainsAfterRestart() async throws {
        let file = TemporarySpoolFile()
        defer { file.remove() }
        let fixture = try await ProducerFixture(names: ["only"])
        fixture.brokers[0].inject(.down)
        do {
            let spool = try await SQLiteSpool.open(path: file.path, clock: fixture.clock)
            let crashed = fixture.producer(configuration: ProducerFixture.configuration(maxAttempts: 1), spool: spool)
            for index in 0..<3 { _ = try await crashed.publish(Envelope(topic: "orders", text: "\(index)", id: "left-\(index)")) }
            await spool.close()
        }
        fixture.brokers[0].inject(.up)
        let reopened = try await SQLiteSpool.open(path: file.path, clock: fixture.clock)
        #expect(try await reopened.depth().messages == 3)
        let restarted = fixture.producer(configuration: ProducerFixture.configuration(maxAttempts: 1), spool: reopened)
        // A publish before the relay starts still queues behind the leftovers.
        let fresh = try await restarted.publish(Envelope(topic: "orders", text: "new", id: "fresh"))
        #expect(fresh.isSpooled)

        let advancing = autoAdvance(fixture.clock)
        let relay = Task { try await restarted.run() }
        let ids = try await consumeIDs(fixture.transports[0], topic: "orders", count: 4)
        #expect(ids == ["left-0", "left-1", "left-2", "fresh"])
        await restarted.shutdown()
        try await relay.value
        advancing.cancel()
        await reopened.close()
        await fixture.shutdown()
    }

    @Test("a full spool answers with backpressure and loses nothing it already holds")
    func fullSpoolIsBackpressure() async throws {
        let file = TemporarySpoolFile()
        defer { file.remove() }
        let fixture = try await ProducerFixture(names: ["only"])
        let spool = try await SQLiteSpool.open(path: file.path, limits: SQLiteSpool.Limits(maxMessages: 2), clock: fixture.clock)
        let producer = fixture.producer(configuration: ProducerFixture.configuration(maxAttempts: 1), spool: spool)
        fixture.brokers[0].inject(.down)
        _ = try await producer.publish(Envelope(topic: "orders", text: "1"))
        _ = try await producer.publish(Envelope(topic: "orders", text: "2"))
        let error = await #expect(throws: CourierError.self) {
            _ = try await producer.publish(Envelope(topic: "orders", text: "3"))
        }
        #expect(error?.code == .backpressure)
        #expect(error?.isRetriable == true)
        #expect(error?.message.contains("is full") == true)
        #expect(try await spool.depth().messages == 2)
        #expect(producer.statistics.failed == 1)
        await spool.close()
        await fixture.shutdown()
    }
}
