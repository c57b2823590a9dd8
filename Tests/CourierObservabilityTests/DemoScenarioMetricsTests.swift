import Courier
import Foundation
import Testing
@testable import CourierCLI

@Suite("observability: the demo's fault scenarios move every counter by what the demo reports", .timeLimit(.minutes(2)))
struct DemoScenarioMetricsTests {
    @Test("retries, failover, spool, drain, duplicates, redelivery and dead letters: metrics equal the demo's own tallies")
    func countersMatchDemoReport() async throws {
        let file = TemporaryFile()
        defer { file.remove() }
        let registry = MetricsRegistry()
        let observability = Observability(registry: registry, tracing: W3CTraceContextInstrument(), logger: SilentLogger())
        var scenario = DemoScenario(messages: 200, spoolPath: file.path, registry: CourierCommandLine.builtInRegistry(), progress: ProgressLine(enabled: false))
        scenario.observability = observability
        let report = try await scenario.run()
        #expect(report.isOK, "the demo itself failed: \(report.json())")
        // The scenarios really happened, so equal counts mean something.
        #expect(report.retried > 0 && report.failedOver > 0 && report.spooled > 0 && report.deadLettered > 0 && report.duplicatesDropped > 0)

        func total(_ label: String) -> Int { Int(registry.counterTotal(label)) }
        #expect(total(MessagingMetrics.publishRequests) == report.published)
        #expect(total(MessagingMetrics.sentMessages) == report.confirmed + report.drainedFromSpool)
        #expect(total(MessagingMetrics.publishRetries) == report.retried)
        #expect(total(MessagingMetrics.failovers) == report.failedOver)
        #expect(total(MessagingMetrics.spooled) == report.spooled)
        #expect(total(MessagingMetrics.drained) == report.drainedFromSpool)
        #expect(total(MessagingMetrics.consumedMessages) == report.consumed)
        #expect(total(MessagingMetrics.deduplicated) == report.duplicatesDropped)
        #expect(total(MessagingMetrics.handlerRetries) == report.retriedByHandler)
        #expect(total(MessagingMetrics.redelivered) == report.redelivered)
        #expect(total(MessagingMetrics.deadLettered) == report.deadLettered)
        #expect(total(MessagingMetrics.breakerTransitions) > 0)
        #expect(registry.gaugeValue(MessagingMetrics.spoolDepth) == 0)
        #expect(registry.gaugeValue(MessagingMetrics.publishesInFlight) == 0)
        let samples = try parsePrometheusText(registry.prometheusText())
        #expect(samples.keys.contains { $0.hasPrefix("messaging_client_sent_messages_total{messaging_system=\"memory\",courier_transport=\"secondary\"") })
    }
}
