import Foundation

/// How a ``ConformanceSuite`` runs: its mode and counts, its timeouts, and the hooks a transport's own
/// test provides (restarting the broker, publishing as a foreign client, preparing topics).
public struct ConformanceOptions: Sendable {
    /// How much work each scenario does.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Small counts, for every `swift test`.
        case short
        /// The counts of the conformance reference, for `make conformance`.
        case full

        /// The environment variable ``fromEnvironment(_:)`` reads: `short` (the default) or `full`.
        public static let environmentVariable = "COURIER_CONFORMANCE_MODE"

        /// The mode named by `COURIER_CONFORMANCE_MODE` (case-insensitive), `short` when it is unset or empty.
        /// Throws a clear error for any other value.
        public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Mode {
            guard let text = environment[environmentVariable]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
                return .short
            }
            guard let mode = Mode(rawValue: text.lowercased()) else {
                throw ConformanceConfigurationError(
                    "\(environmentVariable)=\"\(text)\" is not a mode; use short or full"
                )
            }
            return mode
        }
    }

    /// Restarts the broker every transport of the run talks to, returning once it is back (memory:
    /// `broker.inject(.down)` then `.up`; RabbitMQ: stop and start the server; Kafka mock: brokers down
    /// and up). Without it the reconnect scenario is skipped.
    public typealias RestartBroker = @Sendable () async throws -> Void
    /// Publishes a message the way another client would, without Courier's headers. Without it the
    /// foreign-message scenario is skipped.
    public typealias PublishForeign = @Sendable (ForeignMessage) async throws -> Void
    /// Called with each topic name before a scenario uses it (create it with enough partitions, say).
    public typealias PrepareTopic = @Sendable (String) async throws -> Void

    /// Short or full; fixed at init, where it picked ``counts``, ``quietPeriod`` and ``linger``.
    public let mode: Mode
    /// Per-scenario counts; ``ConformanceCounts/short`` or ``ConformanceCounts/full`` after the mode.
    public var counts: ConformanceCounts
    /// A scenario fails as stalled when nothing happens (no confirm, no delivery, no step) for this long.
    /// Re-armed on every message, so a slow machine does not fail a run, but a stall does.
    public var inactivityTimeout: Duration
    /// How long a scenario watches for something that must not arrive (a second message while the first
    /// is unacked, a message from another topic).
    public var quietPeriod: Duration
    /// After every expected message arrived, how long a scenario keeps listening for late duplicates and
    /// strays before it counts.
    public var linger: Duration
    /// How long a publish that failed with a retriable error is retried (with backoff) before the
    /// scenario fails.
    public var publishRetryWindow: Duration
    /// How long ``restartBroker`` may take; the inactivity timeout is suspended meanwhile.
    public var restartTimeout: Duration
    /// Every topic and group name of the run starts with this; unique per run by default
    /// (`conformance-` and six random hex digits), so runs against a shared broker do not meet.
    public var topicPrefix: String
    /// The factory hands out one transport instance only (closing it closes everything): scenarios use
    /// that one instance, and the publisher-close scenario is skipped.
    public var singleInstance: Bool
    /// Restarts the broker for the reconnect scenario.
    public var restartBroker: RestartBroker?
    /// Publishes as a foreign client for the foreign-message scenario.
    public var publishForeign: PublishForeign?
    /// Prepares each topic before use.
    public var prepareTopic: PrepareTopic?
    /// Scenarios the transport's test knows it cannot pass yet, with the reason: they are reported as
    /// skipped with that reason (never as passed), so a known gap stays visible in every report.
    public var knownGaps: [ConformanceScenario: String] = [:]
    /// Six random hex digits that start every message id of the run (and the default topic prefix).
    let runToken = RunToken.make()

    /// - Parameters:
    ///   - mode: short (the default) or full; picks the counts, the quiet period and the linger.
    ///   - restartBroker: restarts the broker; without it the reconnect scenario is skipped.
    ///   - publishForeign: publishes without Courier's headers; without it scenario 15 is skipped.
    public init(
        mode: Mode = .short,
        inactivityTimeout: Duration = .seconds(10),
        topicPrefix: String? = nil,
        singleInstance: Bool = false,
        restartBroker: RestartBroker? = nil,
        publishForeign: PublishForeign? = nil,
        prepareTopic: PrepareTopic? = nil
    ) {
        self.mode = mode
        self.counts = mode == .full ? .full : .short
        self.inactivityTimeout = inactivityTimeout
        self.quietPeriod = mode == .full ? .milliseconds(500) : .milliseconds(100)
        self.linger = mode == .full ? .milliseconds(200) : .milliseconds(20)
        self.publishRetryWindow = .seconds(30)
        self.restartTimeout = .seconds(120)
        self.topicPrefix = topicPrefix ?? "conformance-\(runToken)"
        self.singleInstance = singleInstance
        self.restartBroker = restartBroker
        self.publishForeign = publishForeign
        self.prepareTopic = prepareTopic
    }
}

/// A message as another client publishes it: no `courier-*` headers.
public struct ForeignMessage: Sendable, Hashable {
    /// The topic to publish to.
    public var topic: String
    /// The body; the suite puts a marker in it to recognise the message when it arrives.
    public var payload: [UInt8]
    /// Plain application headers (a W3C `traceparent` among them).
    public var headers: [String: String]

    /// A foreign message for `topic`.
    public init(topic: String, payload: [UInt8], headers: [String: String]) {
        self.topic = topic
        self.payload = payload
        self.headers = headers
    }
}

/// A conformance run was configured wrongly (an unknown mode, say).
public struct ConformanceConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What was wrong and how to fix it.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Short random tokens for run-unique names.
enum RunToken {
    static func make() -> String {
        String(UInt32.random(in: 0x10_0000...0xFF_FFFF), radix: 16)
    }
}
