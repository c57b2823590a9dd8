import Courier
import Foundation
@testable import CourierKafka

/// A record as a plain librdkafka consumer sees it, to check what Courier put on the wire.
struct RawRecord: Sendable {
    var key: [UInt8]?
    /// Milliseconds since 1970.
    var timestamp: Int64?
    /// Names and values in wire order.
    var headers: [RawHeader]
    var payload: [UInt8]

    var headerNames: [String] { headers.map(\.name) }
    func header(_ name: String) -> String? { headers.last { $0.name == name }?.value }
}

struct RawHeader: Sendable, Equatable {
    var name: String
    var value: String?
}

/// Reads `count` records of `topic` from the start with a consumer of its own group, outside Courier.
/// Polls without blocking, so no cooperative thread waits in librdkafka.
func readRawRecords(from cluster: KafkaMockCluster, topic: String, count: Int, timeout: Duration = .seconds(20)) async throws -> [RawRecord] {
    let consumer = try RDKafkaConsumer(
        properties: [
            "bootstrap.servers": cluster.bootstrapServers,
            "group.id": "raw-reader-\(UUID().uuidString.prefix(8))",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": "false",
            "session.timeout.ms": "3000",
            "heartbeat.interval.ms": "300",
            "fetch.wait.max.ms": "50",
        ],
        context: RDKafkaClientContext(name: "raw-reader", logger: SilentLogger())
    )
    defer { consumer.close() }
    try consumer.subscribe([topic])
    var records: [RawRecord] = []
    let deadline = ContinuousClock.now + timeout
    while records.count < count, ContinuousClock.now < deadline {
        switch consumer.poll(timeoutMilliseconds: 0, decode: rawRecord) {
        case .record(let record):
            records.append(record)
        case .error, .nothing:
            try await Task.sleep(for: .milliseconds(20))
        }
    }
    return records
}

private func rawRecord(_ view: RDKafkaMessageView) -> RawRecord {
    var headers: [RawHeader] = []
    view.forEachHeader { name, value in
        headers.append(RawHeader(name: String(decoding: name, as: UTF8.self), value: value.map { String(decoding: $0, as: UTF8.self) }))
    }
    return RawRecord(key: view.key.map { Array($0) }, timestamp: view.timestamp, headers: headers, payload: Array(view.payload))
}
