import Courier
import CourierConformance
import CourierMemory
import PluginConformanceSample
import Testing

/// A plugin proves itself: register its factory, describe a transport by URL, run the conformance suite.
@Suite("PluginConformance sample", .timeLimit(.minutes(10)))
struct CountingTransportConformanceTests {
    @Test("counting:// passes the conformance suite")
    func countingTransportConforms() async throws {
        // 1. Register the plugin's scheme (here around the memory transport, whose brokers we keep).
        let memory = MemoryTransportFactory()
        var registry = TransportRegistry()
        registry.register(CountingTransportFactory(wrapping: memory, innerScheme: "memory"))
        let spec = TransportSpec(url: try TransportURL("counting://plugin-sample"))

        // 2. The hooks: restart the broker (memory: down, then up), run short or full from the environment.
        var options = ConformanceOptions(mode: try ConformanceOptions.Mode.fromEnvironment())
        options.restartBroker = {
            guard let broker = memory.brokers.existingBroker(named: "plugin-sample") else { return }
            broker.inject(.down)
            try await Task.sleep(for: .milliseconds(50))
            broker.inject(.up)
        }

        // 3. Run every scenario; capabilities come from the factory. No foreign client: scenario 15 is skipped.
        let suite = try ConformanceSuite(spec: spec, registry: registry, options: options)
        let report = await suite.run()
        print(report.table)
        #expect(report.allPassed, "\(report.failureDetails)")
        #expect(report.skipped.map(\.scenario) == [.foreignMessages])
    }

    @Test("the factory validates URLs and declares the wrapped transport's capabilities")
    func factoryDeclaresCapabilities() throws {
        let factory = CountingTransportFactory(wrapping: MemoryTransportFactory(), innerScheme: "memory")
        let capabilities = try factory.capabilities(for: TransportSpec(url: try TransportURL("counting://x")))
        #expect(capabilities.consumerGroups && capabilities.orderingPerKey)
        #expect(throws: CourierError.self) {
            try factory.capabilities(for: TransportSpec(url: try TransportURL("counting://x:99")))
        }
    }
}
