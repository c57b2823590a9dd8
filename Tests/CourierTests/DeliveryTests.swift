import Courier
import Synchronization
import Testing

/// Records every settlement it is asked for.
final class RecordingSettler: DeliverySettler {
    let settled = Mutex<[(tag: UInt64, action: SettleAction)]>([])

    func settle(tag: UInt64, _ action: SettleAction) async throws {
        settled.withLock { $0.append((tag, action)) }
    }

    var actions: [SettleAction] { settled.withLock { $0.map(\.action) } }
    var tags: [UInt64] { settled.withLock { $0.map(\.tag) } }
}

@Suite("Delivery, DeliveryStream and Subscription", .timeLimit(.minutes(1)))
struct DeliveryTests {
    func delivery(tag: UInt64, count: Int = 1, settler: RecordingSettler) -> Delivery {
        Delivery(
            envelope: Envelope(topic: "t", text: "x"), deliveryCount: count,
            source: DeliverySource(transport: "fake", topic: "t"), tag: tag, settler: settler
        )
    }

    @Test func settlementsReachTheSettlerWithTheTag() async throws {
        let settler = RecordingSettler()
        try await delivery(tag: 1, settler: settler).ack()
        try await delivery(tag: 2, settler: settler).nack()
        try await delivery(tag: 3, settler: settler).nack(requeue: false)
        try await delivery(tag: 4, settler: settler).reject()
        #expect(settler.tags == [1, 2, 3, 4])
        #expect(settler.actions == [.ack, .requeue, .reject, .reject])
        #expect(SettleAction.requeue.description == "requeue")
    }

    /// A transport's own per-message object behind a delivery: its fields are what the delivery shows,
    /// and settling goes to it.
    final class OwnHandle: DeliveryHandle {
        let envelope = Envelope(topic: "orders", text: "x")
        let deliveryCount = 3
        var source: DeliverySource { DeliverySource(transport: "own", topic: envelope.topic, partition: 2, offset: 40) }
        let tag: UInt64 = 7
        let settled = Mutex<[SettleAction]>([])

        func settle(_ action: SettleAction) async throws {
            try settled.withLock { settled throws(CourierError) in
                guard settled.isEmpty else { throw CourierError(.invalidSettlement, "delivery 7 was already settled") }
                settled.append(action)
            }
        }
    }

    @Test func aTransportsOwnHandleBacksTheDelivery() async throws {
        let handle = OwnHandle()
        let delivery = Delivery(handle: handle)
        #expect(delivery.envelope.id == handle.envelope.id)
        #expect(delivery.deliveryCount == 3 && delivery.isRedelivery)
        #expect(delivery.source == DeliverySource(transport: "own", topic: "orders", partition: 2, offset: 40))
        #expect(delivery.tag == 7)
        try await delivery.redeliver(after: .seconds(1), headers: ["courier-attempt": "2"])
        #expect(handle.settled.withLock { $0 } == [.redeliver(after: .seconds(1), headers: ["courier-attempt": "2"])])
        await #expect(throws: CourierError.self) { try await delivery.ack() }
    }

    /// A handle that settles acks and rejects at once and leaves the rest to its asynchronous settle,
    /// recording which path each settlement took.
    final class SynchronousHandle: DeliveryHandle {
        let envelope = Envelope(topic: "orders", text: "x")
        let deliveryCount = 1
        var source: DeliverySource { DeliverySource(transport: "own", topic: envelope.topic) }
        let tag: UInt64 = 9
        let settled = Mutex<[String]>([])

        func settle(_ action: SettleAction) async throws {
            settled.withLock { $0.append("waiting \(action)") }
        }

        func settleWithoutWaiting(_ action: SettleAction) throws -> Bool {
            switch action {
            case .ack, .reject:
                try settled.withLock { settled throws(CourierError) in
                    guard action != .ack || !settled.contains("at once ack") else {
                        throw CourierError(.invalidSettlement, "delivery 9 was already acknowledged")
                    }
                    settled.append("at once \(action)")
                }
                return true
            case .requeue, .redeliver:
                return false
            }
        }
    }

    @Test func aHandleThatSettlesAtOnceIsNotAskedToWait() async throws {
        let handle = SynchronousHandle()
        let delivery = Delivery(handle: handle)
        try await delivery.ack()
        try await delivery.nack(requeue: true)
        try await delivery.reject()
        try await delivery.redeliver(after: .seconds(2))
        let redeliver = SettleAction.redeliver(after: .seconds(2), headers: [:])
        #expect(handle.settled.withLock { $0 } == ["at once ack", "waiting requeue", "at once reject", "waiting \(redeliver)"])
        // An error from the immediate path reaches the caller, and the waiting path is not tried.
        await #expect(throws: CourierError.self) { try await delivery.ack() }
        #expect(handle.settled.withLock { $0 }.count == 4)
    }

    @Test func redeliveryFollowsTheDeliveryCount() {
        let settler = RecordingSettler()
        #expect(!delivery(tag: 1, count: 1, settler: settler).isRedelivery)
        #expect(delivery(tag: 1, count: 2, settler: settler).isRedelivery)
    }

    @Test func streamYieldsDeliveriesAndClosesOnce() async throws {
        let closes = Counter()
        let closed = Latch()
        let (stream, continuation) = DeliveryStream.make {
            closes.increment()
            closed.open()
        }
        let settler = RecordingSettler()
        continuation.yield(delivery(tag: 7, settler: settler))
        continuation.yield(delivery(tag: 8, settler: settler))
        continuation.finish()
        var tags: [UInt64] = []
        for try await item in stream { tags.append(item.tag) }
        #expect(tags == [7, 8])

        await stream.close()
        await stream.close()
        await closed.wait()
        #expect(closes.value == 1)
    }

    @Test func deliveriesAnIteratorLeftUnreadGoToTheNextIterator() async throws {
        let (stream, continuation) = DeliveryStream.make {}
        let settler = RecordingSettler()
        // One batch of four: the first loop takes all four from the buffer and reads only two.
        continuation.yield(contentsOf: (1...4).map { delivery(tag: UInt64($0), settler: settler) })
        var first: [UInt64] = []
        for try await item in stream {
            first.append(item.tag)
            if first.count == 2 { break }
        }
        continuation.yield(delivery(tag: 5, settler: settler))
        continuation.finish()
        var second: [UInt64] = []
        for try await item in stream { second.append(item.tag) }
        #expect(first == [1, 2])
        #expect(second == [3, 4, 5])
    }

    @Test func streamRethrowsTheTransportsError() async throws {
        let (stream, continuation) = DeliveryStream.make {}
        continuation.finish(throwing: CourierError(.subscriptionLost, "connection lost"))
        let error = await #expect(throws: CourierError.self) {
            for try await _ in stream {}
        }
        #expect(error?.code == .subscriptionLost)
    }

    @Test func subscriptionValidation() throws {
        try Subscription(topic: "orders", group: "billing", prefetch: 1).validate()
        try Subscription(topic: "orders").validate()

        let emptyTopic = try #require(throws: CourierError.self) { try Subscription(topic: "").validate() }
        #expect(emptyTopic.message.contains("topic is empty"))
        let emptyGroup = try #require(throws: CourierError.self) { try Subscription(topic: "t", group: "").validate() }
        #expect(emptyGroup.message.contains("group is empty"))
        let prefetch = try #require(throws: CourierError.self) { try Subscription(topic: "t", prefetch: 0).validate() }
        #expect(prefetch.message.contains("prefetch is 0"))
        #expect([emptyTopic, emptyGroup, prefetch].allSatisfy { $0.code == .invalidConfiguration })
    }

    @Test func capabilitiesListing() {
        let listing = TransportCapabilities(consumerGroups: true, nativeDelayedDelivery: true, maxMessageBytes: 1_024).listing
        #expect(listing.map(\.name) == [
            "consumer-groups", "ordering-per-key", "persistence", "delayed-delivery", "dead-lettering", "priorities",
            "exactly-once-delivery", "max-message-bytes",
        ])
        #expect(listing.map(\.value) == ["yes", "no", "no", "native", "no", "no", "no", "1024"])
        #expect(TransportCapabilities().listing.last?.value == "unlimited")
    }
}
