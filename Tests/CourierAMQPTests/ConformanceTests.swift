import Courier
import CourierAMQP
import CourierConformance
import Foundation
import Testing

extension AMQPIntegrationTests {
    /// CourierAMQP against the whole conformance suite on the real broker: short mode in every
    /// `swift test`, full mode with `COURIER_CONFORMANCE_MODE=full`.
    @Suite("Conformance: amqp transport")
    struct ConformanceTests {
        @Test("the amqp transport passes every scenario it claims")
        func amqpTransportPasses() async throws {
            let mode = try ConformanceOptions.Mode.fromEnvironment()
            let options = ConformanceOptions(
                mode: mode,
                restartBroker: { try await BrokerControl.script("restart") },
                publishForeign: { message in
                    let url = TestBroker.url.hasSuffix("/") ? String(TestBroker.url.dropLast()) : TestBroker.url
                    var arguments = ["-u", url, "-e", message.topic, "-r", message.topic, "-b", String(decoding: message.payload, as: UTF8.self)]
                    for (name, value) in message.headers.sorted(by: { $0.key < $1.key }) { arguments += ["-H", "\(name): \(value)"] }
                    try runTool("/usr/bin/amqp-publish", arguments)
                }
            )
            let spec = TransportSpec(url: try TransportURL(TestBroker.url + "?reconnect-min-ms=100&reconnect-max-ms=1000"))
            let suite = try ConformanceSuite(spec: spec, registry: TransportRegistry([AMQPTransportFactory()]), options: options)
            let report = await suite.run { result in trace("conformance \(result.scenario): \(result.status) \(result.reason ?? "")") }
            print("Conformance of amqp://, \(mode.rawValue) mode\n\(report.table)")
            if !report.failed.isEmpty { print(report.failureDetails) }
            for result in report.results {
                #expect(result.isPassed || result.isSkipped, "\(result.scenario) \(result.status): \(result.reason ?? "")")
                #expect(result.missing.isEmpty && result.extra.isEmpty, "\(result.scenario)")
            }
        }
    }
}
