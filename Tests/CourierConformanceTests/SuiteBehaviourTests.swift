import Courier
import CourierConformance
import CourierMemory
import Testing

/// How the suite decides, skips and reports.
@Suite("Conformance suite behaviour", .timeLimit(.minutes(2)))
struct SuiteBehaviourTests {
    @Test("scenarios needing an undeclared capability or a missing hook are skipped with the reason, never passed")
    func undeclaredCapabilitiesAreSkipped() async throws {
        var options = ConformanceOptions(mode: .short)
        options.counts.concurrentMessages = 50
        let broker = MemoryBroker(name: "declares-nothing")
        let suite = ConformanceSuite(capabilities: TransportCapabilities(), options: options) {
            let transport = MemoryTransport(broker: broker)
            try await transport.start()
            return transport
        }
        let report = await suite.run()
        let skipped: Set<ConformanceScenario> = [
            .noAckNoNext, .continueAfterSubscriberClose, .orderPerKey, .cancellation, .consumerGroups, .reconnect, .foreignMessages,
        ]
        #expect(Set(report.skipped.map(\.scenario)) == skipped)
        #expect(report.failed.isEmpty, "\(report.failureDetails)")
        #expect(report.result(.reconnect)?.reason?.contains("ConformanceOptions.restartBroker") == true)
        #expect(report.result(.foreignMessages)?.reason?.contains("ConformanceOptions.publishForeign") == true)
        #expect(report.result(.consumerGroups)?.reason == "the transport does not claim consumer groups")
        #expect(report.result(.orderPerKey)?.reason?.contains("orderingPerKey") == true)
        for result in report.skipped { #expect(!result.isPassed && result.attempted == 0) }
        #expect(report.table.contains("skipped"))
    }

    @Test("a single-instance transport runs every scenario on one instance; publisher close is skipped")
    func singleInstance() async throws {
        let broker = MemoryBroker(name: "single-instance")
        let made = ForeignCounter()
        var options = ConformanceOptions(mode: .short, singleInstance: true)
        options.restartBroker = MemoryConformance.restartHook(broker)
        let suite = ConformanceSuite(capabilities: MemoryTransport(broker: broker).capabilities, options: options) {
            _ = made.next()
            let transport = MemoryTransport(broker: broker)
            try await transport.start()
            return transport
        }
        let report = await suite.run()
        #expect(report.failed.isEmpty, "\(report.failureDetails)")
        #expect(report.skipped.map(\.scenario) == [.publisherCloseFlushes, .foreignMessages])
        #expect(made.next() == report.passed.count + 1, "one instance per scenario run")
    }

    @Test("a known gap declared by the test is skipped with its reason")
    func knownGapIsSkipped() async {
        var options = ConformanceOptions(mode: .short)
        options.knownGaps[.reconnect] = "the mock cluster cannot restart yet"
        let result = await MemoryConformance.suite(options: options).run(.reconnect)
        #expect(result.isSkipped)
        #expect(result.reason == "known gap declared by the transport's test: the mock cluster cannot restart yet")
    }

    @Test("the report renders one row per scenario and a summary")
    func reportTable() async throws {
        let suite = MemoryConformance.suite(options: ConformanceOptions(mode: .short))
        let report = await suite.run([.publishSubscribe, .topicIsolation])
        let lines = report.table.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(report.table)")
        #expect(lines[0].hasPrefix(" #  scenario"), "\(lines[0])")
        #expect(lines[1].contains("publish/subscribe round trip") && lines[1].contains("passed"))
        #expect(lines[2].contains("topic isolation") && lines[2].contains("passed"))
        #expect(lines[3] == report.summary)
        #expect(report.summary.hasPrefix("2 scenarios (short): 2 passed, 0 failed, 0 skipped in "))
        #expect(report.result(.topicIsolation)?.confirmed == 3 * suite.options.counts.isolationMessages)
    }

    @Test("the mode comes from COURIER_CONFORMANCE_MODE, short by default")
    func modeFromEnvironment() throws {
        #expect(try ConformanceOptions.Mode.fromEnvironment([:]) == .short)
        #expect(try ConformanceOptions.Mode.fromEnvironment(["COURIER_CONFORMANCE_MODE": ""]) == .short)
        #expect(try ConformanceOptions.Mode.fromEnvironment(["COURIER_CONFORMANCE_MODE": "FULL"]) == .full)
        #expect(throws: ConformanceConfigurationError.self) {
            try ConformanceOptions.Mode.fromEnvironment(["COURIER_CONFORMANCE_MODE": "fast"])
        }
        #expect(ConformanceOptions(mode: .full).counts == .full)
        #expect(ConformanceOptions().counts == .short)
    }

    @Test("a stalled scenario fails after the inactivity timeout, naming what it waited for")
    func stallFails() async throws {
        let broker = MemoryBroker(name: "stalls")
        let clock = ContinuousClock()
        let suite = ConformanceSuite(
            capabilities: TransportCapabilities(),
            options: ConformanceOptions(mode: .short, inactivityTimeout: .seconds(1))
        ) {
            let transport = MemoryTransport(broker: broker)
            try await transport.start()
            broker.inject(.holdConfirms)
            return transport
        }
        let started = clock.now
        let result = await suite.run(.publishSubscribe)
        #expect(clock.now - started < .seconds(10))
        let reason = try #require(result.reason)
        #expect(reason.contains("stalled: nothing happened for 1.0 seconds while publishing 20 messages in order"), "\(reason)")
        broker.inject(.releaseConfirms)
    }
}
