import Courier
import CourierConformance
import CourierMemory
import Synchronization
import Testing

/// The memory transport against the whole conformance suite: short mode in every `swift test`, full
/// mode with `COURIER_CONFORMANCE_MODE=full` (`make conformance`).
@Suite("Conformance: memory transport", .timeLimit(.minutes(10)))
struct MemoryConformanceTests {
    @Test("the memory transport passes every scenario, none skipped")
    func memoryTransportPasses() async throws {
        let mode = try ConformanceOptions.Mode.fromEnvironment()
        let suite = MemoryConformance.suite(options: ConformanceOptions(mode: mode))
        let report = await suite.run()
        print("Conformance of memory://, \(mode.rawValue) mode\n\(report.table)")
        if !report.failed.isEmpty { print(report.failureDetails) }
        #expect(report.results.map(\.scenario) == ConformanceScenario.allCases)
        for result in report.results {
            #expect(result.isPassed, "\(result.scenario) \(result.status): \(result.reason ?? "")")
            #expect(result.missing.isEmpty && result.extra.isEmpty, "\(result.scenario)")
        }
        let reconnect = try #require(report.result(.reconnect))
        #expect(reconnect.confirmed == suite.options.counts.reconnectMessages)
        #expect(reconnect.received == reconnect.confirmed)
    }

    @Test("a restart that loses confirms: outcome-unknown publishes are retried with the same id, nothing is lost, duplicates are counted")
    func restartLosingConfirms() async throws {
        let broker = MemoryBroker(name: "loses-confirms")
        var options = ConformanceOptions(mode: .short)
        options.counts.reconnectMessages = 3000
        options.restartBroker = {
            let storedWhileHeld = Atomic<Bool>(false)
            let observation = broker.observe { event in
                if case .published = event { storedWhileHeld.store(true, ordering: .relaxed) }
            }
            broker.inject(.holdConfirms)
            // Until a message is stored with its confirm held (the phase publishes 1000 meanwhile).
            for _ in 0..<1000 where !storedWhileHeld.load(ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(1))
            }
            await observation.cancel()
            broker.inject(.down)      // held confirms end as outcome-unknown; the messages are stored
            try await Task.sleep(for: .milliseconds(20))
            broker.inject(.up)
            broker.inject(.releaseConfirms)
        }
        let suite = ConformanceSuite(capabilities: MemoryTransport(broker: broker).capabilities, options: options) {
            let transport = MemoryTransport(broker: broker)
            try await transport.start()
            return transport
        }
        let result = await suite.run(.reconnect)
        #expect(result.isPassed, "\(result.reason ?? "")")
        #expect(result.missing.isEmpty && result.extra.isEmpty)
        #expect(result.confirmed == options.counts.reconnectMessages)
        #expect(result.duplicates > 0, "a stored message whose confirm was lost and that was published again arrives twice")
        #expect(result.notes.contains { $0.contains("publish retries") }, "\(result.notes)")
    }
}
