import Courier
import Foundation
import Testing

@Suite("configuration: retry, breaker and spool sections")
struct ReliabilityConfigurationTests {
    let registry = TransportRegistry([FakeTransportFactory(schemes: ["test"])])
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    private func load(_ json: String, spoolFlag: String? = nil, environment: [String: String] = [:]) throws -> CourierConfiguration {
        let path = try directory.write(json)
        return try CourierConfiguration.load(
            from: ConfigurationSources(configFile: path, spoolPath: spoolFlag, environment: environment),
            registry: registry
        )
    }

    private func error(_ json: String) throws -> CourierError {
        try #require(throws: CourierError.self) { _ = try load(json) }
    }

    @Test("defaults apply when the sections are absent, and there is no spool")
    func defaults() throws {
        let configuration = try load(#"{"transports": ["test://a"]}"#)
        #expect(configuration.producer.retry.maxAttempts == 3)
        #expect(configuration.producer.retry.backoff.jitter == .full)
        #expect(configuration.producer.breaker.window == .count(20))
        #expect(configuration.producer.attemptTimeout == nil)
        #expect(configuration.spool == nil)
    }

    @Test("every retry, breaker and spool field is read")
    func everyField() throws {
        let configuration = try load("""
            {"transports": ["test://a"],
             "retry": {"maxAttempts": 7, "deadlineMs": 9000, "initialBackoffMs": 10, "maxBackoffMs": 500,
                       "multiplier": 3, "jitter": "decorrelated", "budgetTokens": 50, "budgetRatio": 0.5, "attemptTimeoutMs": 750},
             "breaker": {"windowType": "time", "windowSize": 30, "failureRateThreshold": 40, "slowCallRateThreshold": 80,
                         "slowCallDurationMs": 700, "minimumCalls": 12, "openDurationMs": 1500, "openDurationMultiplier": 2,
                         "maximumOpenDurationMs": 30000, "permittedCallsInHalfOpen": 4},
             "spool": {"path": "/var/lib/app/spool.sqlite", "maxMessages": 1000, "maxBytes": 4096}}
            """)
        let producer = configuration.producer
        #expect(producer.retry.maxAttempts == 7)
        #expect(producer.retry.deadline == .seconds(9))
        #expect(producer.retry.backoff == Backoff(initial: .milliseconds(10), multiplier: 3, maximum: .milliseconds(500), jitter: .decorrelated))
        #expect(producer.retryBudgetTokens == 50)
        #expect(producer.retryBudgetRatio == 0.5)
        #expect(producer.attemptTimeout == .milliseconds(750))
        #expect(producer.breaker.window == .time(seconds: 30))
        #expect(producer.breaker.failureRateThreshold == 40)
        #expect(producer.breaker.slowCallRateThreshold == 80)
        #expect(producer.breaker.slowCallDuration == .milliseconds(700))
        #expect(producer.breaker.minimumCalls == 12)
        #expect(producer.breaker.openDuration == .milliseconds(1500))
        #expect(producer.breaker.openDurationMultiplier == 2)
        #expect(producer.breaker.maximumOpenDuration == .seconds(30))
        #expect(producer.breaker.permittedCallsInHalfOpen == 4)
        #expect(configuration.spool == SpoolSettings(path: "/var/lib/app/spool.sqlite", maxMessages: 1000, maxBytes: 4096))
    }

    @Test("--spool beats COURIER_SPOOL beats the file, and keeps the file's limits")
    func spoolPrecedence() throws {
        let json = #"{"transports": ["test://a"], "spool": {"path": "/file.sqlite", "maxMessages": 5}}"#
        #expect(try load(json).spool?.path == "/file.sqlite")
        #expect(try load(json, environment: ["COURIER_SPOOL": "/env.sqlite"]).spool == SpoolSettings(path: "/env.sqlite", maxMessages: 5))
        #expect(try load(json, spoolFlag: "/flag.sqlite", environment: ["COURIER_SPOOL": "/env.sqlite"]).spool?.path == "/flag.sqlite")
    }

    @Test("bad values name the field and the allowed range", arguments: [
        (#""retry": {"maxAttempts": 0}"#, "retry.maxAttempts: is 0; it must be from 1 to 1000"),
        (#""retry": {"maxAttempts": 2.5}"#, "retry.maxAttempts: is 2.5; it must be a whole number"),
        (#""retry": {"attemptTimeoutMs": 0}"#, "retry.attemptTimeoutMs: is 0; it must be from 1 to 3600000"),
        (#""retry": {"jitter": "wild"}"#, "retry.jitter: is \"wild\"; it must be one of none, full, equal, decorrelated"),
        (#""retry": {"initialBackoffMs": 100, "maxBackoffMs": 10}"#, "retry.maxBackoffMs: is shorter than initialBackoffMs"),
        (#""retry": {"retries": 3}"#, "retry: has an unknown field \"retries\""),
        (#""retry": 3"#, "retry: is a number; it must be an object"),
        (#""breaker": {"failureRateThreshold": 150}"#, "breaker.failureRateThreshold: is 150; it must be from 0 to 100"),
        (#""breaker": {"windowType": "sliding"}"#, "breaker.windowType: is \"sliding\"; it must be one of count, time"),
        (#""breaker": {"openDurationMs": 5000, "maximumOpenDurationMs": 1000}"#, "breaker.maximumOpenDurationMs: must be at least the open duration"),
        (#""breaker": {"minimumCalls": "ten"}"#, "breaker.minimumCalls: is a string; it must be a number"),
        (#""spool": {"maxMessages": 10}"#, "spool.path: is missing"),
        (#""spool": {"path": ""}"#, "spool.path: is empty"),
    ])
    func badValues(section: String, expected: String) throws {
        let failure = try error(#"{"transports": ["test://a"], "# + section + "}")
        #expect(failure.code == .invalidConfiguration)
        #expect(failure.message.contains(expected), "\(failure.message)")
    }
}
