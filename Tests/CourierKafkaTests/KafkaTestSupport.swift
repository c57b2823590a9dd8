import Courier
import Foundation
import Synchronization
import Testing
@testable import CourierKafka

/// librdkafka properties that make consumer groups on the mock cluster settle in about a second
/// instead of librdkafka's production timings.
let fastGroupProperties: [String: String] = [
    "session.timeout.ms": "3000",
    "heartbeat.interval.ms": "300",
    "auto.commit.interval.ms": "200",
    "fetch.wait.max.ms": "50",
    "linger.ms": "1",
]

/// A private mock cluster for one test, and started transports on it.
final class KafkaTestCluster: Sendable {
    let cluster: KafkaMockCluster
    private let transports = Mutex<[KafkaTransport]>([])
    private let permit: MockClusterPermit

    /// Waits for one of the target's mock-cluster permits, then starts a cluster with `topics`.
    static func start(brokers: Int = 3, topics: [String: Int] = [:]) async throws -> KafkaTestCluster {
        let permit = await MockClusterPermits.shared.acquire()
        return try KafkaTestCluster(brokers: brokers, topics: topics, permit: permit)
    }

    private init(brokers: Int, topics: [String: Int], permit: MockClusterPermit) throws {
        self.permit = permit
        cluster = try KafkaMockCluster(brokers: brokers)
        for (topic, partitions) in topics { try cluster.createTopic(topic, partitions: partitions) }
    }

    /// A started transport on this cluster; `properties` override the fast defaults.
    func transport(_ properties: [String: String] = [:], name: String? = nil, logger: any CourierLogger = SilentLogger()) async throws -> KafkaTransport {
        let url = cluster.url(fastGroupProperties.merging(properties) { _, new in new })
        let spec = TransportSpec(url: try TransportURL(url), name: name)
        guard let transport = try KafkaTransportFactory().makeTransport(spec, context: TransportContext(logger: logger)) as? KafkaTransport else {
            throw CourierError(.fatal, "the factory made something other than a KafkaTransport")
        }
        try await transport.start()
        transports.withLock { $0.append(transport) }
        return transport
    }

    /// Shuts every transport down, then the cluster.
    func close() async {
        for transport in transports.withLock({ $0 }) { await transport.shutdown() }
        cluster.close()
    }
}

/// Reads deliveries until `count` arrived or nothing arrived for `idle` (an inactivity timeout, so a slow
/// machine does not fail a test that is making progress). Each one is settled with `settle`.
func receive(
    _ stream: DeliveryStream,
    count: Int,
    idle: Duration = .seconds(15),
    settle: @escaping @Sendable (Delivery) async throws -> Void = { try await $0.ack() }
) async throws -> [Delivery] {
    try await withThrowingTaskGroup(of: [Delivery]?.self) { group in
        let progress = Activity()
        group.addTask {
            var received: [Delivery] = []
            for try await delivery in stream {
                progress.touch()
                received.append(delivery)
                try await settle(delivery)
                if received.count >= count { break }
            }
            return received
        }
        group.addTask {
            while true {
                try await Task.sleep(for: .milliseconds(100))
                if progress.idle > idle { return nil }
            }
        }
        defer { group.cancelAll() }
        while let result = try await group.next() {
            if let received = result { return received }
            break
        }
        return []
    }
}

/// Publishes `count` messages and returns their confirmations.
func publish(_ transport: KafkaTransport, topic: String, count: Int, key: (Int) -> String? = { _ in nil }) async throws -> [PublishConfirmation] {
    var confirmations: [PublishConfirmation] = []
    for index in 0..<count {
        var envelope = Envelope(topic: topic, text: "message \(index)", headers: ["index": String(index)])
        envelope.orderingKey = key(index)
        confirmations.append(try await transport.publish(envelope))
    }
    return confirmations
}

/// A unique topic name per test, so tests sharing nothing never see each other's messages.
func uniqueTopic(_ base: String) -> String { "\(base)-\(UUID().uuidString.prefix(8).lowercased())" }

/// When something last happened, for inactivity timeouts.
final class Activity: Sendable {
    private let last = Mutex(ContinuousClock.now)
    func touch() { last.withLock { $0 = .now } }
    var idle: Duration { ContinuousClock.now - last.withLock { $0 } }
}

/// Waits until `condition` holds, checking every 100 ms, for at most `timeout`.
func eventually(_ timeout: Duration = .seconds(20), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return condition()
}

extension Delivery {
    /// The `index` header the test publishers set.
    var index: Int { Int(envelope.headers["index"] ?? "") ?? -1 }
}

/// Keeps every log line, to check what a transport reported.
final class CapturingLogger: CourierLogger {
    private let lines = Mutex<[(LogLevel, String)]>([])
    func log(level: LogLevel, _ message: String, metadata: [String: String]) {
        lines.withLock { $0.append((level, message)) }
    }
    func contains(_ text: String, level: LogLevel) -> Bool {
        lines.withLock { $0.contains { $0.0 == level && $0.1.contains(text) } }
    }
}
