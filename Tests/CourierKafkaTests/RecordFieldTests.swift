import Courier
import Foundation
import Testing
@testable import CourierKafka

/// The timestamp travels as the record timestamp and the ordering key as the record key, not as headers.
@Suite("Kafka record timestamp and key carry Courier's fields")
struct RecordFieldTests {
    /// A minute before the tests ran (within `KafkaWireHeaders.recordTimestampWindow`), with a
    /// sub-millisecond part that the record timestamp rounds away.
    static let created = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 60).rounded(.down) + 0.1234)
    static let createdMilliseconds = milliseconds(created)

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    @Test("a published record carries courier-id and the application's headers; timestamp and key are the record's own")
    func wireRecord() async throws {
        let test = try await KafkaTestCluster.start(topics: ["wire": 1])
        let transport = try await test.transport()
        let keyed = Envelope(
            topic: "wire", payload: Array("keyed".utf8), orderingKey: "customer-7",
            // Spoofed field headers: the envelope's own fields win on the wire.
            headers: ["traceparent": "00-abc-01", CourierHeader.timestamp: "5", CourierHeader.orderingKey: "spoofed"],
            timestamp: Self.created
        )
        let unkeyed = Envelope(topic: "wire", payload: Array("unkeyed".utf8), timestamp: Self.created.addingTimeInterval(1))
        _ = try await transport.publish(keyed)
        _ = try await transport.publish(unkeyed)

        let records = try await readRawRecords(from: test.cluster, topic: "wire", count: 2)
        try #require(records.count == 2)
        #expect(records[0].headers == [RawHeader(name: CourierHeader.id, value: keyed.id), RawHeader(name: "traceparent", value: "00-abc-01")])
        #expect(records[0].key == Array("customer-7".utf8))
        #expect(records[0].timestamp == Self.createdMilliseconds)
        #expect(records[1].headers == [RawHeader(name: CourierHeader.id, value: unkeyed.id)])
        #expect(records[1].key == nil)
        #expect(records[1].timestamp == Self.createdMilliseconds + 1000)
        await test.close()
    }

    @Test("timestamp (to the millisecond) and ordering key, empty or not, survive the round trip")
    func roundTrip() async throws {
        let test = try await KafkaTestCluster.start(topics: ["trip": 2])
        let transport = try await test.transport()
        let sent = [
            Envelope(topic: "trip", payload: [1], orderingKey: "customer-1", timestamp: Self.created),
            Envelope(topic: "trip", payload: [2], orderingKey: "", timestamp: Self.created.addingTimeInterval(-600)),
            Envelope(topic: "trip", payload: [3], orderingKey: nil, timestamp: Self.created.addingTimeInterval(0.0006)),
            Envelope(topic: "trip", payload: [4], orderingKey: "ключ-ü", timestamp: Self.created),
        ]
        for envelope in sent { _ = try await transport.publish(envelope) }
        let stream = try await transport.subscribe(Subscription(topic: "trip", group: "trippers"))
        let received = try await receive(stream, count: sent.count)
        await stream.close()
        let byID = Dictionary(uniqueKeysWithValues: received.map { ($0.envelope.id, $0.envelope) })
        for envelope in sent {
            let got = try #require(byID[envelope.id])
            #expect(got.orderingKey == envelope.orderingKey, "ordering key of payload \(envelope.payload)")
            #expect(Self.milliseconds(got.timestamp) == Self.milliseconds(envelope.timestamp), "timestamp of payload \(envelope.payload)")
            #expect(got.headers.isEmpty)
        }

        // The empty ordering key is an empty record key, not a missing one.
        let records = try await readRawRecords(from: test.cluster, topic: "trip", count: sent.count)
        let empty = try #require(records.first { $0.payload == [2] })
        #expect(empty.key == [])
        #expect(empty.headerNames == [CourierHeader.id])
        await test.close()
    }

    @Test("a timestamp a record cannot carry (at or before 1970) travels as courier-timestamp")
    func timestampBeforeEpoch() async throws {
        let test = try await KafkaTestCluster.start(topics: ["old": 1])
        let transport = try await test.transport()
        let ancient = Envelope(topic: "old", payload: [1], timestamp: Date(timeIntervalSince1970: -12.5))
        _ = try await transport.publish(ancient)
        let records = try await readRawRecords(from: test.cluster, topic: "old", count: 1)
        #expect(records.first?.header(CourierHeader.timestamp) == "-12500")
        let stream = try await transport.subscribe(Subscription(topic: "old", group: "historians"))
        let got = try #require(try await receive(stream, count: 1).first)
        #expect(got.envelope.timestamp == ancient.timestamp)
        await test.close()
    }

    @Test("an envelope made over an hour before it is sent: the record takes the time of sending, courier-timestamp the creation time")
    func longBeforeSending() async throws {
        let test = try await KafkaTestCluster.start(topics: ["late": 1])
        let transport = try await test.transport()
        // As a spool relayed after a long outage, or a dead letter replayed days later, would send it: were
        // its record stamped with the creation time, time-based retention could delete it at once.
        let created = Date().addingTimeInterval(-3 * 86_400)
        let late = Envelope(topic: "late", payload: [1], timestamp: created)
        let sentAfter = Self.milliseconds(Date())
        _ = try await transport.publish(late)
        let sentBefore = Self.milliseconds(Date())
        let record = try #require(try await readRawRecords(from: test.cluster, topic: "late", count: 1).first)
        #expect(record.header(CourierHeader.timestamp) == String(Self.milliseconds(created)))
        let stamped = try #require(record.timestamp)
        #expect(stamped >= sentAfter - 1000 && stamped <= sentBefore + 1000, "record timestamp \(stamped) not the time of sending")
        let stream = try await transport.subscribe(Subscription(topic: "late", group: "latecomers"))
        let got = try #require(try await receive(stream, count: 1).first)
        #expect(Self.milliseconds(got.envelope.timestamp) == Self.milliseconds(created))
        await test.close()
    }

    @Test("records with the older courier-timestamp and courier-ordering-key headers decode to them")
    func olderHeaders() async throws {
        let test = try await KafkaTestCluster.start(topics: ["legacy": 1])
        let producer = KafkaProducer(name: "older", properties: try KafkaProperties(spec: TransportSpec(url: TransportURL(test.cluster.url()))), logger: SilentLogger())
        try producer.start()
        let older: [(payload: UInt8, key: String?, headers: [(String, String)])] = [
            // As Courier wrote every record before: key and header agree, timestamp header.
            (1, "acct-1", [(CourierHeader.id, "older-1"), (CourierHeader.timestamp, "1600000000456"), (CourierHeader.orderingKey, "acct-1")]),
            // The header wins over a different key.
            (2, "partition-7", [(CourierHeader.id, "older-2"), (CourierHeader.timestamp, "1600000000789"), (CourierHeader.orderingKey, "route-a")]),
            // The empty ordering key as a header, no key.
            (3, nil, [(CourierHeader.id, "older-3"), (CourierHeader.timestamp, "1600000001000"), (CourierHeader.orderingKey, "")]),
        ]
        let messages = older.map { message in
            KafkaOutgoingMessage(
                topic: "legacy", key: message.key.map { Array($0.utf8) }, payload: [message.payload], headers: message.headers,
                messageID: message.headers[0].1
            )
        }
        for result in await producer.send(messages) { _ = try result.get() }
        await producer.close()

        let transport = try await test.transport()
        let stream = try await transport.subscribe(Subscription(topic: "legacy", group: "upgraded"))
        let received = try await receive(stream, count: older.count)
        await stream.close()
        let byID = Dictionary(uniqueKeysWithValues: received.map { ($0.envelope.id, $0.envelope) })
        #expect(byID["older-1"]?.orderingKey == "acct-1")
        #expect(byID["older-1"].map { Self.milliseconds($0.timestamp) } == 1_600_000_000_456)
        #expect(byID["older-2"]?.orderingKey == "route-a")
        #expect(byID["older-2"].map { Self.milliseconds($0.timestamp) } == 1_600_000_000_789)
        #expect(byID["older-3"]?.orderingKey == "")
        #expect(byID["older-3"].map { Self.milliseconds($0.timestamp) } == 1_600_000_001_000)
        #expect(received.allSatisfy { $0.envelope.headers.isEmpty })
        await test.close()
    }

    @Test("a copy redelivered through the retry topic keeps ordering key, key and timestamp")
    func retryCopyKeepsFields() async throws {
        let test = try await KafkaTestCluster.start(topics: ["payments": 1])
        let transport = try await test.transport()
        let sent = Envelope(topic: "payments", payload: Array("pay".utf8), orderingKey: "acct-3", timestamp: Self.created)
        _ = try await transport.publish(sent)
        let stream = try await transport.subscribe(Subscription(topic: "payments", group: "ledger"))
        let received = try await receive(stream, count: 2) { delivery in
            if delivery.isRedelivery { try await delivery.ack() } else { try await delivery.nack(requeue: true) }
        }
        await stream.close()
        try #require(received.count == 2)
        let copy = received[1]
        #expect(copy.isRedelivery && copy.envelope.id == sent.id)
        #expect(copy.envelope.orderingKey == "acct-3")
        #expect(Self.milliseconds(copy.envelope.timestamp) == Self.createdMilliseconds)

        let retryTopic = KafkaRetryTopic.name(topic: "payments", group: "ledger")
        let copies = try await readRawRecords(from: test.cluster, topic: retryTopic, count: 1)
        #expect(copies.first?.key == Array("acct-3".utf8))
        await test.close()
    }
}
