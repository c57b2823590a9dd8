import Courier
import Foundation

/// The consumer process of a chaos run: one consumer group over every transport of the failover set,
/// exactly-once effects through the ledger's idempotency store. The handler's effect is a row in the
/// ledger's effects table, committed with the key (see ``ConsumerLedger``). Runs until SIGTERM or SIGINT
/// (graceful drain), or until it is killed.
public struct ConsumeWorker: Sendable {
    public struct Options: Sendable {
        public var directory: String
        public var transports: [String]
        public var topic: String
        public var group: String
        public var concurrency: Int
        public var prefetch: Int
        /// Simulated work per message, so a kill finds handlers mid-batch.
        public var workMilliseconds: Int

        public init(directory: String, transports: [String], topic: String, group: String, concurrency: Int, prefetch: Int, workMilliseconds: Int) {
            self.directory = directory
            self.transports = transports
            self.topic = topic
            self.group = group
            self.concurrency = concurrency
            self.prefetch = prefetch
            self.workMilliseconds = workMilliseconds
        }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    public func run() async throws {
        let ledger = try ConsumerLedger(directory: options.directory)
        defer { ledger.close() }
        let transports = try WorkerTransports(specs: options.transports)
        try await transports.start(deadline: .seconds(120))
        let work = options.workMilliseconds
        let configuration = ConsumerConfiguration(
            topic: options.topic, group: options.group, concurrency: options.concurrency, prefetch: options.prefetch,
            guarantee: .exactlyOnceEffects,
            // A killed consumer's claims lapse this soon, so its successor may run those messages.
            idempotencyLease: .seconds(3),
            resubscribeDelay: .milliseconds(200)
        )
        let consumer = try Consumer(transports: transports.transports, configuration: configuration, idempotencyStore: ledger) { message in
            if work > 0 { try await Task.sleep(for: .milliseconds(work)) }
            ledger.stageEffect(key: message.envelope.idempotencyKey, messageID: message.envelope.id, transport: message.source.transport)
        }
        consumer.onEvent { event in
            if case .deadLettered(let id, let reason, _) = event { try? ledger.recordDeadLetter(id: id, reason: reason) }
        }
        let stop = TerminationSignals { Task { await consumer.shutdown() } }
        workerLog("consumer started on \(transports.transports.map(\.name))")
        await consumer.run()
        stop.cancel()
        workerLog("consumer stopped: \(consumer.statistics)")
        await transports.shutdown()
    }
}
