import Courier
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Checks a page against the Prometheus text format 0.0.4 rules and returns its samples by series.
func parsePrometheusText(_ text: String) throws -> [String: Double] {
    struct FormatError: Error, CustomStringConvertible { let description: String }
    let metricName = #/[a-zA-Z_:][a-zA-Z0-9_:]*/#
    let sampleLine = #/([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)/#
    var types: [String: String] = [:]
    var helped: Set<String> = []
    var samples: [String: Double] = [:]
    var finishedFamilies: Set<String> = []
    var currentFamily: String?
    guard text.isEmpty || text.hasSuffix("\n") else { throw FormatError(description: "the page must end with a newline") }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
        if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ", maxSplits: 3)
            guard parts.count >= 3, parts[2].wholeMatch(of: metricName) != nil else { throw FormatError(description: "bad comment: \(line)") }
            let name = String(parts[2])
            if line.hasPrefix("# TYPE ") {
                guard types[name] == nil else { throw FormatError(description: "TYPE given twice for \(name)") }
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3])) else {
                    throw FormatError(description: "bad TYPE line: \(line)")
                }
                types[name] = String(parts[3])
            } else {
                guard helped.insert(name).inserted else { throw FormatError(description: "HELP given twice for \(name)") }
            }
            if currentFamily != name, let currentFamily { finishedFamilies.insert(currentFamily) }
            guard !finishedFamilies.contains(name) else { throw FormatError(description: "family \(name) is split") }
            currentFamily = name
            continue
        }
        guard let match = line.wholeMatch(of: sampleLine) else { throw FormatError(description: "not a sample line: \(line)") }
        let name = String(match.1)
        let family = types.keys.first { name == $0 || (types[$0] == "histogram" && [$0 + "_bucket", $0 + "_sum", $0 + "_count"].contains(name)) }
        guard let family, family == currentFamily else { throw FormatError(description: "sample \(name) is outside its family's TYPE block") }
        let value = match.4 == "+Inf" ? Double.infinity : Double(String(match.4))
        guard let value else { throw FormatError(description: "bad value in \(line)") }
        let series = String(line[..<(line.lastIndex(of: " ") ?? line.endIndex)])
        guard samples.updateValue(value, forKey: series) == nil else { throw FormatError(description: "series \(series) appears twice") }
    }
    return samples
}

@Suite("observability: Prometheus text exposition and the HTTP endpoint", .timeLimit(.minutes(1)))
struct PrometheusExpositionTests {
    @Test("a page with every kind of metric parses by the text format rules, with escaped label values and cumulative buckets")
    func pageParses() throws {
        let registry = MetricsRegistry(histogramBounds: [0.001, 0.01, 0.1])
        registry.counter("messaging.client.sent.messages", [("messaging.destination.name", "a\"b\\c\nd")]).increment(by: 3)
        registry.counter("messaging.client.sent.messages", [("messaging.destination.name", "plain")]).increment(by: 1)
        registry.gauge("courier.spool.depth").record(Int64(7))
        let histogram = registry.histogram("messaging.process.duration", [("messaging.destination.name", "plain")])
        for nanoseconds: Int64 in [500_000, 5_000_000, 5_000_000, 50_000_000, 2_000_000_000] { histogram.recordNanoseconds(nanoseconds) }

        let samples = try parsePrometheusText(registry.prometheusText())
        #expect(samples[#"messaging_client_sent_messages_total{messaging_destination_name="a\"b\\c\nd"}"#] == 3)
        #expect(samples[#"messaging_client_sent_messages_total{messaging_destination_name="plain"}"#] == 1)
        #expect(samples["courier_spool_depth"] == 7)
        let prefix = #"messaging_process_duration_seconds_bucket{messaging_destination_name="plain",le="#
        #expect(samples[prefix + #""0.001"}"#] == 1)
        #expect(samples[prefix + #""0.01"}"#] == 3)
        #expect(samples[prefix + #""0.1"}"#] == 4)
        #expect(samples[prefix + #""+Inf"}"#] == 5)
        #expect(samples[#"messaging_process_duration_seconds_count{messaging_destination_name="plain"}"#] == 5)
        let sum = try #require(samples[#"messaging_process_duration_seconds_sum{messaging_destination_name="plain"}"#])
        #expect(abs(sum - 2.0605) < 1e-9)
    }

    @Test("the parser used here rejects what the format forbids, so the test above can fail")
    func parserRejectsBadPages() {
        #expect(throws: (any Error).self) { try parsePrometheusText("no_type 1\n") }
        #expect(throws: (any Error).self) { try parsePrometheusText("# TYPE a counter\na{x=\"unterminated} 1\n") }
        #expect(throws: (any Error).self) { try parsePrometheusText("# TYPE a counter\na 1\n# TYPE b gauge\nb 1\na 2\n") }
        #expect(throws: (any Error).self) { try parsePrometheusText("# TYPE a counter\na 1") }
    }

    @Test("asking twice for one label set returns the same handler; a label used with two kinds keeps the first kind")
    func handlersAreShared() throws {
        let registry = MetricsRegistry()
        registry.counter("x", [("k", "v")]).increment(by: 2)
        registry.makeCounter(label: "x", dimensions: [("k", "v")]).increment(by: 3)
        registry.gauge("x", [("k", "w")]).record(Int64(9))
        #expect(registry.counterValue("x", [("k", "v")]) == 5)
        #expect(registry.gaugeValue("x", [("k", "w")]) == nil)
        _ = try parsePrometheusText(registry.prometheusText())
    }

    @Test("the endpoint serves the page on 127.0.0.1, answers 404 elsewhere, and a taken port is a clear error")
    func endpointServesPage() async throws {
        let registry = MetricsRegistry()
        registry.counter("courier.publish.requests", [("messaging.destination.name", "orders")]).increment(by: 42)
        let server = try MetricsHTTPServer(port: 0, metrics: registry)
        #expect(server.host == "127.0.0.1")
        #expect(server.port > 0)

        let (body, response) = try await URLSession.shared.data(from: try #require(URL(string: server.url)))
        let http = try #require(response as? HTTPURLResponse)
        #expect(http.statusCode == 200)
        #expect(http.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let samples = try parsePrometheusText(String(decoding: body, as: UTF8.self))
        #expect(samples[#"courier_publish_requests_total{messaging_destination_name="orders"}"#] == 42)

        let (_, missing) = try await URLSession.shared.data(from: try #require(URL(string: "http://127.0.0.1:\(server.port)/other")))
        #expect((missing as? HTTPURLResponse)?.statusCode == 404)

        let error = #expect(throws: CourierError.self) { _ = try MetricsHTTPServer(port: server.port, metrics: registry) }
        #expect(error?.message.contains("pick a free port") == true)
        await server.shutdown()
    }

    @Test("a bad address or port is refused with what to give instead")
    func badAddress() {
        let registry = MetricsRegistry()
        let host = #expect(throws: CourierError.self) { _ = try MetricsHTTPServer(host: "localhost:1", port: 0, metrics: registry) }
        #expect(host?.message.contains("127.0.0.1") == true)
        let port = #expect(throws: CourierError.self) { _ = try MetricsHTTPServer(port: 70000, metrics: registry) }
        #expect(port?.message.contains("1 to 65535") == true)
    }
}
