import Courier
import CourierMemory
import Testing

@Suite("producer: attempt timeout on a hung transport")
struct AttemptTimeoutTests {
    private static func configuration(timeout: Duration?) -> ProducerConfiguration {
        var configuration = ProducerFixture.configuration(maxAttempts: 3)
        configuration.attemptTimeout = timeout
        return configuration
    }

    @Test("a transport that never confirms is abandoned after the timeout; the next one confirms, without retries on the hung one")
    func hungPrimaryFailsOverAtTheTimeout() async throws {
        let fixture = try await ProducerFixture()
        let producer = fixture.producer(configuration: Self.configuration(timeout: .milliseconds(500)))
        let events = EventLog(producer)
        #expect(try await producer.publish(Envelope(topic: "orders", text: "before")).transport == "primary")
        fixture.brokers[0].inject(.holdConfirms)
        let started = fixture.clock.now()
        let publish = Task { try await producer.publish(Envelope(topic: "orders", text: "a", id: "hung-1")) }
        // The attempt and its timer are both waiting: nothing may answer before the clock moves.
        await fixture.clock.waitForSleepers(1)
        fixture.clock.advance(by: .milliseconds(499))
        await Task.yield()
        #expect(fixture.brokers[1].retainedCount(topic: "orders") == 0)
        fixture.clock.advance(by: .milliseconds(1))
        let receipt = try await publish.value
        #expect(receipt.transport == "secondary")
        #expect(receipt.attempts == 2)
        #expect(fixture.clock.now() - started == .milliseconds(500))
        #expect(producer.statistics.retried == 0)
        #expect(events.all.contains(.failedOver(from: "primary", to: "secondary")))
        // The abandoned attempt stays with the primary: stored, and confirmed once the broker answers.
        #expect(fixture.brokers[0].retainedCount(topic: "orders") == 2)
        fixture.brokers[0].inject(.releaseConfirms)
        await fixture.shutdown()
    }

    @Test("timed-out attempts count as breaker failures: after enough of them the hung transport is skipped at once")
    func timeoutsOpenTheBreaker() async throws {
        let fixture = try await ProducerFixture()
        let producer = fixture.producer(configuration: Self.configuration(timeout: .milliseconds(200)))
        fixture.brokers[0].inject(.holdConfirms)
        let advancing = autoAdvance(fixture.clock)
        for index in 0..<4 {
            let receipt = try await producer.publish(Envelope(topic: "orders", text: "m\(index)"))
            #expect(receipt.transport == "secondary")
        }
        advancing.cancel()
        #expect(fixture.brokers[0].retainedCount(topic: "orders") == 4)
        // Minimum 4 calls, all failed: open. The next publish does not touch the primary or wait.
        #expect(producer.breakers[0].currentState == .open)
        let before = fixture.clock.now()
        let receipt = try await producer.publish(Envelope(topic: "orders", text: "fast"))
        #expect(receipt.transport == "secondary")
        #expect(fixture.clock.now() == before)
        #expect(fixture.brokers[0].retainedCount(topic: "orders") == 4)
        fixture.brokers[0].inject(.releaseConfirms)
        await fixture.shutdown()
    }

    @Test("a confirm inside the timeout is an ordinary success and leaves no timer behind")
    func confirmInTimeLeavesNoTimer() async throws {
        let fixture = try await ProducerFixture()
        let producer = fixture.producer(configuration: Self.configuration(timeout: .seconds(5)))
        for index in 0..<20 {
            let receipt = try await producer.publish(Envelope(topic: "orders", text: "m\(index)"))
            #expect(receipt.transport == "primary")
        }
        #expect(producer.breakers[0].currentState == .closed)
        // Every timer was cancelled with its attempt: no sleeper is left on the virtual clock.
        try await Task.sleep(for: .milliseconds(50))
        #expect(fixture.clock.sleeperCount == 0)
        await fixture.shutdown()
    }

    @Test("the last transport timing out too: the error says timed out, may duplicate, and how to change it")
    func everyTransportHung() async throws {
        let fixture = try await ProducerFixture(names: ["only"])
        let producer = fixture.producer(configuration: Self.configuration(timeout: .milliseconds(300)))
        fixture.brokers[0].inject(.holdConfirms)
        let advancing = autoAdvance(fixture.clock)
        let error = await #expect(throws: CourierError.self) {
            try await producer.publish(Envelope(topic: "orders", text: "x"))
        }
        advancing.cancel()
        #expect(error?.mayDuplicate == true)
        #expect(error?.message.contains("no answer within 300 ms") == true)
        #expect(error?.message.contains("attemptTimeoutMs") == true)
        #expect(producer.statistics.retried == 0)
        fixture.brokers[0].inject(.releaseConfirms)
        await fixture.shutdown()
    }
}
