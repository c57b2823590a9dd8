import Courier

/// The transport conformance suite: every scenario of the conformance reference, run against a
/// transport through the plugin SPI alone, reported as values (no test framework needed).
///
/// ```swift
/// let suite = ConformanceSuite(capabilities: transport.capabilities, options: ConformanceOptions(mode: .short)) {
///     let transport = MyTransport(...)      // a fresh instance on the same broker every call
///     try await transport.start()
///     return transport
/// }
/// let report = await suite.run()
/// print(report.table)
/// #expect(report.failed.isEmpty, "\(report.failureDetails)")   // or XCTAssert, or exit(1)
/// ```
///
/// Every scenario uses fresh transports from the factory (several at once: a publisher and one or more
/// subscribers, which must all reach the same broker) and shuts them down when it ends. A scenario
/// that needs a capability the transport does not declare, or a hook the options do not provide, is
/// skipped with the reason, never passed.
public struct ConformanceSuite: Sendable {
    /// Makes a fresh, started transport connected to the broker under test.
    public typealias TransportMaker = @Sendable () async throws -> any Transport

    /// What the transport declares; decides which scenarios run and whether duplicates fail.
    public let capabilities: TransportCapabilities
    /// Mode, counts, timeouts and hooks.
    public let options: ConformanceOptions
    private let transportMaker: TransportMaker

    /// - Parameters:
    ///   - capabilities: the transport's declared capabilities.
    ///   - options: mode, timeouts and hooks.
    ///   - makeTransport: returns a fresh, started transport on the broker under test.
    public init(
        capabilities: TransportCapabilities,
        options: ConformanceOptions = ConformanceOptions(),
        makeTransport: @escaping TransportMaker
    ) {
        self.capabilities = capabilities
        self.options = options
        self.transportMaker = makeTransport
    }

    /// A suite for the transport `spec` describes, made (and started) through `registry`, with the
    /// capabilities the registered factory reports for the spec. Throws the factory's validation error.
    public init(
        spec: TransportSpec,
        registry: TransportRegistry,
        context: TransportContext = TransportContext(),
        options: ConformanceOptions = ConformanceOptions()
    ) throws {
        let capabilities = try registry.capabilities(for: spec)
        self.init(capabilities: capabilities, options: options) {
            let transport = try registry.makeTransport(spec, context: context)
            try await transport.start()
            return transport
        }
    }

    /// Runs `scenarios` one after another (all of them by default) and reports every result.
    /// `onResult` sees each result as soon as its scenario ends (to print progress).
    public func run(
        _ scenarios: [ConformanceScenario] = ConformanceScenario.allCases,
        onResult: (@Sendable (ScenarioResult) -> Void)? = nil
    ) async -> ConformanceReport {
        var results: [ScenarioResult] = []
        for scenario in scenarios {
            let result = await run(scenario)
            onResult?(result)
            results.append(result)
        }
        return ConformanceReport(mode: options.mode, capabilities: capabilities, results: results)
    }

    /// Runs one scenario (or reports why it is skipped).
    public func run(_ scenario: ConformanceScenario) async -> ScenarioResult {
        if let reason = skipReason(for: scenario) { return .skipped(scenario, reason: reason) }
        let run = ScenarioRun(
            scenario: scenario, capabilities: capabilities, options: options,
            runToken: options.runToken, transportMaker: transportMaker
        )
        let started = ContinuousClock.now
        await run.executeBody()
        for check in run.checks { await check() }
        await run.cleanUp()
        return run.result(duration: ContinuousClock.now - started)
    }
}
