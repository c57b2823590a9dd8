import Courier
import CourierConformance
import Foundation
import Testing
@testable import CourierKafka

/// The transport conformance suite against CourierKafka on an in-process mock cluster: short mode in
/// every `swift test`, full mode with COURIER_CONFORMANCE_MODE=full (`make conformance`).
@Suite("Kafka conformance on the mock cluster")
struct KafkaConformanceTests {
    @Test("the kafka:// transport passes the conformance suite")
    func conformance() async throws {
        let permit = await MockClusterPermits.shared.acquire()
        defer { withExtendedLifetime(permit) {} }
        let cluster = try KafkaMockCluster(brokers: 3)
        defer { cluster.close() }
        let url = try TransportURL(cluster.url(fastGroupProperties))
        let foreign = KafkaProducer(name: "foreign-client", properties: try KafkaProperties(spec: TransportSpec(url: url)), logger: SilentLogger())
        try foreign.start()
        let brokers = cluster.brokerCount
        let options = ConformanceOptions(
            mode: try ConformanceOptions.Mode.fromEnvironment(),
            inactivityTimeout: .seconds(20),
            // Every broker down (clients disconnected, connections refused), then back.
            restartBroker: {
                for broker in 1...brokers { try cluster.setBrokerDown(broker) }
                try await Task.sleep(for: .seconds(1))
                for broker in 1...brokers { try cluster.setBrokerUp(broker) }
            },
            // Another Kafka client: plain headers only, no courier-* ones.
            publishForeign: { message in
                _ = try await foreign.send(
                    topic: message.topic, key: nil, payload: message.payload,
                    headers: message.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                    messageID: "foreign"
                )
            },
            prepareTopic: { topic in try cluster.createTopic(topic, partitions: 3) }
        )
        let suite = try ConformanceSuite(
            spec: TransportSpec(url: url),
            registry: TransportRegistry([KafkaTransportFactory()]),
            options: options
        )
        let report = await suite.run()
        await foreign.close()
        print(report.table)
        #expect(report.failed.isEmpty, "\(report.failureDetails)")
        #expect(report.skipped.isEmpty, "\(report.skipped.map { "\($0.scenario): \($0.reason ?? "")" })")
    }
}
