import Courier
import CourierConformance
import CourierMemory
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
}
