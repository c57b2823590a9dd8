import Courier
import Foundation
import Testing
@testable import CourierKafka

@Suite("Kafka messages from other clients")
struct ForeignMessageTests {
    @Test("a message from a raw librdkafka producer, without Courier headers, gets a derived id")
    func rawLibrdkafkaMessage() async throws {
        let test = try await KafkaTestCluster.start(topics: ["legacy": 1])
        let reports = ConfirmedIDs()
        let raw = try RDKafkaProducer(
            properties: ["bootstrap.servers": test.cluster.bootstrapServers],
            context: RDKafkaClientContext(name: "raw", logger: SilentLogger())
        ) { event in
            if case .deliveries(let list) = event { for report in list where report.error.rawValue == 0 { reports.add(String(report.offset)) } }
        }
        try raw.produce(topic: "legacy", key: .bytes(Array("acct-7".utf8)), payload: Array("{\"amount\":5}".utf8), id: 1, headerCount: 1) { headers in
            headers.add("x-origin", "billing-v1")
        }
        #expect(try await eventually(.seconds(10)) { reports.ids.count == 1 })
        await raw.close(timeout: .seconds(2))
        let offset = try #require(reports.ids.first)

        let transport = try await test.transport()
        let stream = try await transport.subscribe(Subscription(topic: "legacy", group: "new-service"))
        let delivery = try #require(try await receive(stream, count: 1).first)
        #expect(delivery.envelope.id == "kafka:legacy:0:\(offset)")
        #expect(delivery.envelope.idempotencyKey == delivery.envelope.id)
        #expect(delivery.envelope.orderingKey == "acct-7")
        #expect(delivery.envelope.headers == ["x-origin": "billing-v1"])
        #expect(delivery.envelope.text == "{\"amount\":5}")
        await test.close()
    }

    @Test("a message produced by kcat is consumed with a derived id")
    func kcatMessage() async throws {
        let kcat = try #require(["/usr/bin/kcat", "/usr/local/bin/kcat"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                "kcat is missing; run .ci/install-deps")
        let test = try await KafkaTestCluster.start(topics: ["shipments": 1])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: kcat)
        process.arguments = ["-P", "-b", test.cluster.bootstrapServers, "-t", "shipments", "-K", ":", "-H", "source=kcat"]
        let input = Pipe()
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try ChildProcessLaunch.run { try process.run() }
        input.fileHandleForWriting.write(Data("parcel-9:shipped\n".utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let transport = try await test.transport()
        let stream = try await transport.subscribe(Subscription(topic: "shipments", group: "tracking"))
        let delivery = try #require(try await receive(stream, count: 1).first)
        #expect(delivery.envelope.id == "kafka:shipments:0:0")
        #expect(delivery.envelope.orderingKey == "parcel-9")
        #expect(delivery.envelope.headers["source"] == "kcat")
        #expect(delivery.envelope.text == "shipped")
        await test.close()
    }
}
