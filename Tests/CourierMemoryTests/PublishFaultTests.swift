import Courier
import CourierMemory
import Testing

@Suite("Memory faults: failing publishes", .timeLimit(.minutes(1)))
struct PublishFaultTests {
    @Test(arguments: [true, false])
    func failPublishesFailsExactlyThatManyThenSucceeds(retriable: Bool) async throws {
        let fixture = try await MemoryFixture()
        fixture.broker.inject(.failPublishes(count: 3, retriable: retriable))

        for attempt in 1...3 {
            let error = await fixture.publishError(.text("m\(attempt)"))
            #expect(error?.code == .injectedFault)
            #expect(error?.isRetriable == retriable)
            #expect(error?.isFatal == !retriable)
            #expect(error?.mayDuplicate == false)
            #expect(error?.transport == fixture.transport.name)
        }
        let confirmation = try await fixture.transport.publish(.text("m4"))
        #expect(confirmation.offset == 0)
        try await fixture.publish("m5")
        #expect(fixture.harness.record.published.map(\.id) == ["m4", "m5"])
        #expect(fixture.harness.record.faults == [.failPublishes(count: 3, retriable: retriable)])
    }

    @Test func failPublishesWithZeroOrNegativeCountFailsNothing() async throws {
        let fixture = try await MemoryFixture()
        fixture.broker.inject(.failPublishes(count: 2, retriable: true))
        fixture.broker.inject(.failPublishes(count: -1, retriable: true))
        try await fixture.publish("m1")
        #expect(fixture.harness.record.published.map(\.id) == ["m1"])
    }

    @Test func invalidMessagesDoNotUseUpScriptedFailures() async throws {
        let fixture = try await MemoryFixture()
        fixture.broker.inject(.failPublishes(count: 1, retriable: true))
        let invalid = await fixture.publishError(.text("bad", priority: 12))
        #expect(invalid?.code == .invalidMessage)
        let injected = await fixture.publishError(.text("m1"))
        #expect(injected?.code == .injectedFault)
        try await fixture.publish("m2")
    }

    /// Publishes `count` messages and returns which ones failed with the injected fault.
    private func failurePattern(seed: UInt64, count: Int = 64) async throws -> [Bool] {
        let fixture = try await MemoryFixture()
        fixture.broker.inject(.failPublishesRandomly(probability: 0.5, seed: seed))
        var pattern: [Bool] = []
        for index in 0..<count {
            let error = await fixture.publishError(.text("m\(index)"))
            if let error {
                #expect(error.code == .injectedFault)
                #expect(error.isRetriable)
            }
            pattern.append(error != nil)
        }
        #expect(fixture.harness.record.published.count == pattern.filter { !$0 }.count)
        return pattern
    }

    @Test func randomFailuresReplayExactlyForTheSameSeed() async throws {
        let first = try await failurePattern(seed: 42)
        let again = try await failurePattern(seed: 42)
        let other = try await failurePattern(seed: 43)
        #expect(first == again)
        #expect(first != other)
        // Probability one half: both outcomes happen, neither dominates.
        #expect((16...48).contains(first.filter { $0 }.count))
    }

    @Test func randomFailuresFollowTheProbability() async throws {
        let fixture = try await MemoryFixture()
        fixture.broker.inject(.failPublishesRandomly(probability: 1, seed: 7))
        #expect(await fixture.publishError(.text("m1"))?.code == .injectedFault)
        fixture.broker.inject(.failPublishesRandomly(probability: 0, seed: 7))
        try await fixture.publish("m2")
        #expect(fixture.harness.record.published.map(\.id) == ["m2"])
    }

    @Test func reinjectingTheSeedRestartsThePattern() async throws {
        let fixture = try await MemoryFixture()
        var patterns: [[Bool]] = []
        for _ in 0..<2 {
            fixture.broker.inject(.failPublishesRandomly(probability: 0.3, seed: 99))
            var pattern: [Bool] = []
            for index in 0..<32 { pattern.append(await fixture.publishError(.text("m\(index)")) != nil) }
            patterns.append(pattern)
        }
        #expect(patterns[0] == patterns[1])
        #expect(patterns[0].contains(true))
        #expect(patterns[0].contains(false))
    }
}
