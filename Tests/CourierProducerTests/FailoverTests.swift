import Courier
import CourierMemory
import Testing

@Suite("producer: retry, breaker, failover and failback", .timeLimit(.minutes(1)))
struct FailoverTests {
    @Test("the primary confirms; the receipt names it and keeps id and key")
    func primaryConfirms() async throws {
        let fixture = try await ProducerFixture()
        let producer = fixture.producer()
        let envelope = Envelope(topic: "orders", text: "1", id: "m-1")
        let receipt = try await producer.publish(envelope)
        #expect(receipt.transport == "primary")
        #expect(receipt.messageID == "m-1")
        #expect(receipt.idempotencyKey == "m-1")
        #expect(receipt.attempts == 1)
        #expect(producer.statistics.confirmed == 1)
        #expect(producer.statistics.failedOver == 0)
        await fixture.shutdown()
    }

    @Test("retriable failures are retried on the same transport within maxAttempts")
    func retriesOnSameTransport() async throws {
        let fixture = try await ProducerFixture()
        let producer = fixture.producer()
        fixture.brokers[0].inject(.failPublishes(count: 2, retriable: true))
        let receipt = try await producer.publish(Envelope(topic: "orders", text: "1"))
        #expect(receipt.transport == "primary")
        #expect(receipt.attempts == 3)
        #expect(producer.statistics.retried == 2)
        await fixture.shutdown()
    }

    @Test("when retries run out the next transport confirms, and a failover event names both")
    func failsOverAfterRetries() async throws {
        let fixture = try await ProducerFixture()
        let producer = fixture.producer()
        let events = EventLog(producer)
        _ = try await producer.publish(Envelope(topic: "orders", text: "warm-up"))
        fixture.brokers[0].inject(.failPublishes(count: 3, retriable: true))
        let receipt = try await producer.publish(Envelope(topic: "orders", text: "1", id: "m-2"))
        #expect(receipt.transport == "secondary")
        #expect(receipt.attempts == 4)
        #expect(producer.statistics.failedOver == 1)
        #expect(events.all.contains(.failedOver(from: "primary", to: "secondary")))
        let ids = try await consumeIDs(fixture.transports[1], topic: "orders", count: 1)
        #expect(ids == ["m-2"])
        await fixture.shutdown()
    }

    @Test("a fatal error moves to the next transport without retrying")
    func fatalSkipsRetries() async throws {
        let fixture = try await ProducerFixture()
        let producer = fixture.producer()
        fixture.brokers[0].inject(.failPublishes(count: 1, retriable: false))
        let receipt = try await producer.publish(Envelope(topic: "orders", text: "1"))
        #expect(receipt.transport == "secondary")
        #expect(receipt.attempts == 2)
        #expect(producer.statistics.retried == 0)
        await fixture.shutdown()
    }

    @Test("the message's own fault is thrown at once: no retry, no failover")
    func callerErrorIsNotFailedOver() async throws {
        let fixture = try await ProducerFixture(options: MemoryBrokerOptions(maxMessageBytes: 4))
        let producer = fixture.producer()
        let error = await #expect(throws: CourierError.self) {
            _ = try await producer.publish(Envelope(topic: "orders", text: "too large"))
        }
        #expect(error?.code == .messageTooLarge)
        #expect(fixture.brokers[1].retainedCount(topic: "orders") == 0)
        #expect(producer.statistics.failed == 1)
        await fixture.shutdown()
    }

    @Test("the primary's breaker opens, later publishes skip it, and traffic fails back once it closes")
    func breakerOpensThenFailsBack() async throws {
        let fixture = try await ProducerFixture()
        let producer = fixture.producer(configuration: ProducerFixture.configuration(maxAttempts: 1))
        let events = EventLog(producer)
        _ = try await producer.publish(Envelope(topic: "orders", text: "before"))
        fixture.brokers[0].inject(.down)
        for index in 0..<4 {
            let receipt = try await producer.publish(Envelope(topic: "orders", text: "\(index)"))
            #expect(receipt.transport == "secondary")
        }
        #expect(producer.breakers[0].currentState == .open)
        // Open: the primary is not even tried.
        let skipped = try await producer.publish(Envelope(topic: "orders", text: "skipped"))
        #expect(skipped.attempts == 1)
        #expect(skipped.transport == "secondary")

        fixture.brokers[0].inject(.up)
        fixture.clock.advance(by: .seconds(2))
        let first = try await producer.publish(Envelope(topic: "orders", text: "trial-1"))
        #expect(first.transport == "primary")
        #expect(producer.breakers[0].currentState == .halfOpen)
        _ = try await producer.publish(Envelope(topic: "orders", text: "trial-2"))
        #expect(producer.breakers[0].currentState == .closed)
        #expect(events.all.contains(.failedBack(from: "secondary", to: "primary")))
        await fixture.shutdown()
    }

    @Test("with no spool and every transport down, the error names each transport's failure")
    func everythingDownWithoutSpool() async throws {
        let fixture = try await ProducerFixture()
        let producer = fixture.producer(configuration: ProducerFixture.configuration(maxAttempts: 1))
        fixture.brokers.forEach { $0.inject(.down) }
        let error = await #expect(throws: CourierError.self) {
            _ = try await producer.publish(Envelope(topic: "orders", text: "1", id: "lonely"))
        }
        #expect(error?.code == .unavailable)
        #expect(error?.isRetriable == true)
        #expect(error?.message.contains("no transport took message lonely") == true)
        #expect(error?.message.contains("primary: ") == true)
        #expect(error?.message.contains("secondary: ") == true)
        await fixture.shutdown()
    }

    @Test("an outcome-unknown failure is resent with the same id and idempotency key on the fallback")
    func outcomeUnknownKeepsIdentity() async throws {
        let fixture = try await ProducerFixture()
        let producer = fixture.producer(configuration: ProducerFixture.configuration(maxAttempts: 1))
        fixture.brokers[0].inject(.holdConfirms)
        let envelope = Envelope(topic: "orders", payload: [1, 2, 3], id: "dup-1", idempotencyKey: "order-77")
        let publish = Task { try await producer.publish(envelope) }
        // The primary stored it but never confirms; its outage makes the outcome unknown.
        while fixture.brokers[0].retainedCount(topic: "orders") == 0 { await Task.yield() }
        fixture.brokers[0].inject(.down)
        let receipt = try await publish.value
        #expect(receipt.transport == "secondary")
        fixture.brokers[0].inject(.up)
        let onPrimary = try await consumeIDs(fixture.transports[0], topic: "orders", count: 1)
        let secondaryStream = try await fixture.transports[1].subscribe(Subscription(topic: "orders", group: "verify"))
        var iterator = secondaryStream.makeAsyncIterator()
        let onSecondary = try #require(try await iterator.next())
        #expect(onPrimary == ["dup-1"])
        #expect(onSecondary.envelope.id == "dup-1")
        #expect(onSecondary.envelope.idempotencyKey == "order-77")
        await fixture.shutdown()
    }

    @Test("the retry budget stops retries multiplying during an outage")
    func budgetLimitsRetries() async throws {
        let fixture = try await ProducerFixture(names: ["only"])
        // 4 tokens: retries are allowed while more than 2 remain, so at most two failures are retried.
        let producer = fixture.producer(configuration: ProducerFixture.configuration(maxAttempts: 5, budgetTokens: 4))
        fixture.brokers[0].inject(.failPublishes(count: 1000, retriable: true))
        for _ in 0..<10 {
            _ = try? await producer.publish(Envelope(topic: "orders", text: "x"))
        }
        #expect(producer.statistics.retried <= 2)
        #expect(producer.statistics.failed == 10)
        await fixture.shutdown()
    }
}
