import Courier
import CourierSQLite
import Foundation
import Synchronization

/// The producer process of a chaos run: publishes `count` messages through a ``Producer`` (failover
/// over its transports, then the durable spool), writing each id to the ledger before publishing it and
/// each answer after. With `count` 0 it only drains what an earlier, killed producer left in the spool.
public struct ProduceWorker: Sendable {
    public struct Options: Sendable {
        public var directory: String
        public var transports: [String]
        public var topic: String
        public var count: Int
        /// Messages per second across all publishers; 0 publishes as fast as the producer allows.
        public var rate: Int
        public var concurrency: Int
        public var idPrefix: String

        public init(directory: String, transports: [String], topic: String, count: Int, rate: Int, concurrency: Int, idPrefix: String) {
            self.directory = directory
            self.transports = transports
            self.topic = topic
            self.count = count
            self.rate = rate
            self.concurrency = concurrency
            self.idPrefix = idPrefix
        }
    }

    public let options: Options
    /// Messages recorded and published together; the ledger is written once per chunk.
    static let chunkSize = 50

    /// The defaults, plus the attempt timeout a latency-sensitive user sets so that a hung broker (open
    /// sockets, no answers) is left within half a second instead of after two missed heartbeats.
    static let configuration = ProducerConfiguration(attemptTimeout: attemptTimeout)
    static let attemptTimeout = Duration.milliseconds(500)

    public init(options: Options) { self.options = options }

    public func run() async throws {
        let ledger = try ProducerLedger(directory: options.directory)
        defer { ledger.close() }
        let transports = try WorkerTransports(specs: options.transports)
        try await transports.start(deadline: .seconds(120))
        let spool = try await SQLiteSpool.open(path: options.directory + "/spool.sqlite")
        let producer = Producer(transports: transports.transports, configuration: Self.configuration, spool: spool)
        _ = producer.onEvent { event in Self.record(event, in: ledger) }
        let relay = Task { try await producer.run() }
        workerLog("producer started: \(options.count) messages, spool depth \(try await spool.depth().messages)")
        do {
            try await publishAll(producer: producer, ledger: ledger)
            try await waitForEmptySpool(spool, deadline: .seconds(600))
        } catch {
            workerLog("producer failed: \(error)")
            relay.cancel()
            await producer.shutdown()
            await transports.shutdown()
            throw error
        }
        workerLog("producer done: \(producer.statistics)")
        relay.cancel()
        await producer.shutdown()
        await spool.close()
        await transports.shutdown()
    }

    private func publishAll(producer: Producer, ledger: ProducerLedger) async throws {
        let next = ChunkCounter()
        let began = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, options.concurrency) {
                group.addTask {
                    while true {
                        let first = next.take(Self.chunkSize)
                        guard first < options.count else { return }
                        let indices = first..<min(first + Self.chunkSize, options.count)
                        if options.rate > 0 {
                            let due = began + .milliseconds(Int64(first) * 1000 / Int64(options.rate))
                            try await Task.sleep(until: due, clock: .continuous)
                        }
                        try await publishChunk(indices, producer: producer, ledger: ledger)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    private func publishChunk(_ indices: Range<Int>, producer: Producer, ledger: ProducerLedger) async throws {
        let ids = indices.map { "\(options.idPrefix)-\($0)" }
        try ledger.recordAttempts(ids)
        let outcomes = await withTaskGroup(of: PublishOutcomeRecord.self) { group in
            for id in ids {
                group.addTask {
                    let envelope = Envelope(topic: options.topic, text: "chaos \(id)", id: id)
                    do {
                        let receipt = try await producer.publish(envelope)
                        return PublishOutcomeRecord(id: id, kind: receipt.isSpooled ? .spooled : .confirmed, transport: receipt.transport)
                    } catch {
                        return PublishOutcomeRecord(id: id, kind: .failed, transport: nil)
                    }
                }
            }
            var outcomes: [PublishOutcomeRecord] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        try ledger.recordOutcomes(outcomes)
    }

    private func waitForEmptySpool(_ spool: SQLiteSpool, deadline: Duration) async throws {
        let giveUp = ContinuousClock.now + deadline
        while try await spool.depth().messages > 0 {
            guard ContinuousClock.now < giveUp else { throw ChaosError("the spool still holds messages after \(deadline)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private static func record(_ event: ProducerEvent, in ledger: ProducerLedger) {
        switch event {
        case .failedOver(let from, let to): try? ledger.recordEvent(kind: "failed-over", detail: "\(from) -> \(to)")
        case .failedBack(let from, let to): try? ledger.recordEvent(kind: "failed-back", detail: "\(from) -> \(to)")
        case .drained(let id, let transport): try? ledger.recordOutcomes([PublishOutcomeRecord(id: id, kind: .drained, transport: transport)])
        case .spooled, .retried: break
        }
    }
}

/// Hands out the first index of the next chunk to whichever publisher asks.
private final class ChunkCounter: Sendable {
    private let next = Atomic<Int>(0)

    /// The first index of a chunk of `size`.
    func take(_ size: Int) -> Int { next.add(size, ordering: .relaxed).oldValue }
}
