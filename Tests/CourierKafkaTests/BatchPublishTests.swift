import Courier
import Foundation
import Testing
@testable import CourierKafka

@Suite("Kafka batch publish and the lean wire path")
struct BatchPublishTests {
    @Test("publish(contentsOf:) confirms every message in order; a bad one fails alone; all arrive intact")
    func batchPublish() async throws {
        let test = try await KafkaTestCluster.start(topics: ["batch": 3, "other": 1])
        let transport = try await test.transport()
        var envelopes = (0..<2500).map { index in
            Envelope(
                topic: index % 5 == 0 ? "other" : "batch", payload: Array("item \(index)".utf8),
                orderingKey: "key-\(index % 7)", headers: ["index": String(index)]
            )
        }
        envelopes[10] = Envelope(topic: "batch", text: "no id", id: "")  // invalid: fails validation
        let outcomes = await transport.publish(contentsOf: envelopes)
        #expect(outcomes.count == envelopes.count)
        for (index, (envelope, outcome)) in zip(envelopes, outcomes).enumerated() {
            switch outcome {
            case .success(let confirmation):
                #expect(index != 10)
                #expect(confirmation.messageID == envelope.id && confirmation.topic == envelope.topic)
                #expect(confirmation.offset != nil && confirmation.partition != nil)
            case .failure(let error):
                #expect(index == 10, "message \(index) failed: \(error)")
                #expect(error.code == .invalidMessage)
            }
        }
        // Offsets are distinct per partition: each confirmation names its own stored record.
        let positions = outcomes.compactMap { try? $0.get() }.map { "\($0.topic)/\($0.partition ?? -1)/\($0.offset ?? -1)" }
        #expect(Set(positions).count == envelopes.count - 1)

        let stream = try await transport.subscribe(Subscription(topic: "batch", group: "readers", prefetch: 256))
        let expected = envelopes.enumerated().filter { $0.offset != 10 && $0.element.topic == "batch" }.map(\.element)
        let received = try await receive(stream, count: expected.count)
        await stream.close()
        let byID = Dictionary(received.map { ($0.envelope.id, $0.envelope) }) { first, _ in first }
        for envelope in expected {
            let got = try #require(byID[envelope.id])
            #expect(got.payload == envelope.payload && got.headers == envelope.headers && got.orderingKey == envelope.orderingKey)
        }
        await test.close()
    }

    @Test("a batch to a transport that is shut down fails every message as closed")
    func batchAfterShutdown() async throws {
        let test = try await KafkaTestCluster.start(topics: ["late": 1])
        let transport = try await test.transport()
        await transport.shutdown()
        let outcomes = await transport.publish(contentsOf: [Envelope(topic: "late", text: "a"), Envelope(topic: "late", text: "b")])
        #expect(outcomes.count == 2)
        for outcome in outcomes {
            guard case .failure(let error) = outcome else {
                Issue.record("published after shutdown")
                continue
            }
            #expect(error.code == .closed)
        }
        await test.close()
    }

    @Test("headers written straight from an envelope are its wireHeaders but for timestamp and ordering key")
    func wireHeadersMatch() {
        var full = Envelope(
            topic: "t", payload: [1], idempotencyKey: "business-7", orderingKey: "customer-1", priority: 4,
            headers: [
                "traceparent": "00-abc-01", CourierHeader.id: "spoofed", CourierHeader.attempt: "2", CourierHeader.contentType: "kept?",
                CourierHeader.timestamp: "5", CourierHeader.orderingKey: "spoofed",
            ],
            contentType: "application/json", correlationID: "corr"
        )
        var plain = Envelope(
            topic: "t", text: "x",
            headers: [CourierHeader.idempotencyKey: "from-app", CourierHeader.priority: "3", CourierHeader.orderingKey: "no key set"]
        )
        plain.contentType = nil
        for envelope in [full, plain] {
            var written: [String: String] = [:]
            var names: [String] = []
            KafkaWireHeaders.write(envelope, recordTimestamp: KafkaWireHeaders.recordTimestamp(of: envelope)) { name, value in
                written[name] = value
                names.append(name)
            }
            // The record's timestamp and key carry those two; an application header of either name is dropped.
            var expected = envelope.wireHeaders
            expected[CourierHeader.timestamp] = nil
            expected[CourierHeader.orderingKey] = nil
            #expect(written == expected)
            #expect(names.count == Set(names).count, "a header written twice: \(names)")
            #expect(names.count <= KafkaWireHeaders.count(of: envelope))
        }
        // Every field set, the timestamp one a record cannot carry: the most field headers written.
        full.headers = [:]
        full.timestamp = Date(timeIntervalSince1970: -1)
        var fieldHeaders: [String] = []
        KafkaWireHeaders.write(full, recordTimestamp: KafkaWireHeaders.recordTimestamp(of: full)) { name, _ in fieldHeaders.append(name) }
        #expect(fieldHeaders.contains(CourierHeader.timestamp) && !fieldHeaders.contains(CourierHeader.orderingKey))
        #expect(fieldHeaders.count == KafkaWireHeaders.count(of: full))
    }

    @Test("header integers are read as Int64(String) reads them")
    func integerParsing() {
        for text in ["0", "42", "-17", "+5", "9223372036854775807", "-9223372036854775808", "", "-", "1x", " 1", "9223372036854775808", "1.5"] {
            let parsed = Array(text.utf8).withUnsafeBytes { KafkaRecordDecoding.parseInteger($0) }
            #expect(parsed == Int64(text), "\(text)")
        }
    }
}
