import Courier
import Synchronization

/// Everything one scenario run works with: the transport factory, capabilities and options, its
/// ledgers and subscribers, and the failures and notes it collects.
final class ScenarioRun: Sendable {
    let scenario: ConformanceScenario
    let capabilities: TransportCapabilities
    let options: ConformanceOptions
    /// Prefixes every message id of the run (`<token>-s01-`), so ids are unique and readable.
    let idPrefix: String
    let activity = Activity()
    private let transportMaker: ConformanceSuite.TransportMaker

    private struct State {
        var failures: [String] = []
        /// Why the body did not finish (stalled, cancelled); reported after the specific findings.
        var interruption: String?
        var notes: [String] = []
        var transports: [any Transport] = []
        var sharedTransport: Task<any Transport, any Error>?
        var consumers: [Consumer] = []
        var ledgers: [Ledger] = []
        var checks: [@Sendable () async -> Void] = []
        var publishRetries = 0
    }

    private let state = Mutex(State())

    init(
        scenario: ConformanceScenario, capabilities: TransportCapabilities, options: ConformanceOptions,
        runToken: String, transportMaker: @escaping ConformanceSuite.TransportMaker
    ) {
        self.scenario = scenario
        self.capabilities = capabilities
        self.options = options
        self.idPrefix = "\(runToken)-s\(scenario.paddedNumber)-"
        self.transportMaker = transportMaker
    }

    var counts: ConformanceCounts { options.counts }

    // MARK: Findings

    /// Records a failure of the scenario.
    func fail(_ message: String) { state.withLock { $0.failures.append(message) } }

    /// Records an observation that is not a failure.
    func note(_ message: String) { state.withLock { $0.notes.append(message) } }

    /// Records why the body was interrupted; listed after the specific findings, which say more.
    func interrupted(_ message: String) { state.withLock { $0.interruption = message } }

    var failures: [String] { state.withLock { $0.failures } }
    var interruption: String? { state.withLock { $0.interruption } }
    var notes: [String] { state.withLock { $0.notes } }
    var ledgers: [Ledger] { state.withLock { $0.ledgers } }

    /// Runs `check` after the scenario body ends, also when it stalled (to name what went wrong).
    func afterwards(_ check: @escaping @Sendable () async -> Void) { state.withLock { $0.checks.append(check) } }

    var checks: [@Sendable () async -> Void] { state.withLock { $0.checks } }

    func countPublishRetry() { state.withLock { $0.publishRetries += 1 } }
    var publishRetries: Int { state.withLock { $0.publishRetries } }

    // MARK: Resources

    /// A fresh started transport (the one shared instance when ``ConformanceOptions/singleInstance``).
    /// Every transport is shut down when the scenario ends.
    func makeTransport() async throws -> any Transport {
        activity.begin("making a transport")
        guard options.singleInstance else { return try await madeAndKept() }
        let shared = state.withLock { state -> Task<any Transport, any Error> in
            if let shared = state.sharedTransport { return shared }
            let made = Task { try await self.madeAndKept() }
            state.sharedTransport = made
            return made
        }
        return try await shared.value
    }

    private func madeAndKept() async throws -> any Transport {
        let transport = try await transportMaker()
        state.withLock { $0.transports.append(transport) }
        return transport
    }

    /// A run-unique topic name for this scenario, prepared through ``ConformanceOptions/prepareTopic``.
    func makeTopic(_ suffix: String = "") async throws -> String {
        let name = "\(options.topicPrefix)-s\(scenario.paddedNumber)-\(scenario.slug)\(suffix)"
        if let prepare = options.prepareTopic {
            activity.begin("preparing topic \(name)")
            try await prepare(name)
        }
        return name
    }

    /// A run-unique consumer group name.
    func groupName(_ name: String) -> String { "\(options.topicPrefix)-s\(scenario.paddedNumber)-\(name)" }

    /// A new ledger; its counts go into the scenario's result.
    func ledger(
        _ name: String, keepsEnvelopes: Bool = false, identify: @escaping @Sendable (Envelope) -> String = \.id
    ) -> Ledger {
        let ledger = Ledger(name: name, keepsEnvelopes: keepsEnvelopes, activity: activity, identify: identify)
        state.withLock { $0.ledgers.append(ledger) }
        return ledger
    }

    /// Subscribes, retrying retriable errors within the publish retry window.
    func subscribe(_ transport: any Transport, topic: String, group: String? = nil, prefetch: Int = 16) async throws -> DeliveryStream {
        activity.begin("subscribing to \(topic)" + (group.map { " as \($0)" } ?? ""))
        let subscription = Subscription(topic: topic, group: group, prefetch: prefetch)
        let deadline = ContinuousClock.now + options.publishRetryWindow
        var delay = Duration.milliseconds(20)
        while true {
            do {
                let stream = try await transport.subscribe(subscription)
                activity.bump()
                return stream
            } catch let error as CourierError where error.isRetriable && ContinuousClock.now < deadline {
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .milliseconds(500))
            }
        }
    }

    /// Starts a subscriber on `stream` that books into `ledger` and settles as `handler` decides.
    func consume(
        _ stream: DeliveryStream, into ledger: Ledger, member: String,
        alreadyClosed: Bool = false,
        handler: @escaping Consumer.Handler = { _, _ in .ack },
        resubscribe: Consumer.Resubscribe? = nil
    ) -> Consumer {
        let consumer = Consumer(
            member: member, ledger: ledger, run: self, resubscribe: resubscribe, closed: alreadyClosed, handler: handler
        )
        state.withLock { $0.consumers.append(consumer) }
        consumer.start(stream)
        return consumer
    }

    /// Subscribes and starts a subscriber in one step.
    func subscribeAndConsume(
        _ transport: any Transport, topic: String, group: String? = nil, prefetch: Int = 16,
        into ledger: Ledger, member: String,
        handler: @escaping Consumer.Handler = { _, _ in .ack }
    ) async throws -> Consumer {
        let stream = try await subscribe(transport, topic: topic, group: group, prefetch: prefetch)
        return consume(stream, into: ledger, member: member, handler: handler)
    }

    // MARK: Waiting

    /// Waits until `condition` holds, re-checking on every event. Never times out by itself: the run's
    /// inactivity watchdog fails the scenario when nothing happens for too long.
    func waitUntil(_ description: String, _ condition: () -> Bool) async throws {
        activity.begin("waiting until \(description)")
        while true {
            let version = activity.version
            if condition() { return }
            try Task.checkCancellation()
            await activity.waitForChange(after: version)
        }
    }

    /// Waits until every id confirmed into each ledger has been processed, then lingers for strays.
    func waitForEverything(in ledgers: [Ledger]) async throws {
        let names = ledgers.count == 1 ? ledgers[0].name : "\(ledgers.count) topics or groups"
        try await waitUntil("every confirmed message on \(names) is received") {
            ledgers.allSatisfy(\.hasEverythingConfirmed)
        }
        try await Task.sleep(for: options.linger)
    }

    // MARK: Ending

    /// Stops every subscriber and shuts every transport down, each bounded by the inactivity timeout.
    func cleanUp() async {
        let (consumers, transports) = state.withLock { ($0.consumers, $0.transports) }
        for consumer in consumers { await consumer.stop() }
        for transport in transports {
            let name = transport.name
            let done = await finishes(within: options.inactivityTimeout) { await transport.shutdown() }
            if !done { fail("shutdown of \(name) did not return within \(options.inactivityTimeout)") }
        }
    }
}
