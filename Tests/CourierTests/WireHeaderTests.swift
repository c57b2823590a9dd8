import Courier
import Foundation
import Testing

@Suite("Wire headers")
struct WireHeaderTests {
    /// A timestamp with whole milliseconds, which is what the wire carries.
    let timestamp = Date(timeIntervalSince1970: 1_700_000_000.123)

    @Test func everyFieldRoundTrips() {
        let original = Envelope(
            topic: "orders",
            payload: Array("{}".utf8),
            id: "m-1",
            idempotencyKey: "order-42",
            orderingKey: "customer-7",
            priority: 7,
            headers: ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "x-tenant": "acme"],
            contentType: "application/json",
            timestamp: timestamp,
            correlationID: "req-9"
        )
        let wire = original.wireHeaders
        #expect(wire[CourierHeader.id] == "m-1")
        #expect(wire[CourierHeader.idempotencyKey] == "order-42")
        #expect(wire[CourierHeader.orderingKey] == "customer-7")
        #expect(wire[CourierHeader.priority] == "7")
        #expect(wire[CourierHeader.contentType] == "application/json")
        #expect(wire[CourierHeader.timestamp] == "1700000000123")
        #expect(wire[CourierHeader.correlationID] == "req-9")
        #expect(wire["traceparent"] == original.headers["traceparent"])
        #expect(wire["x-tenant"] == "acme")

        let decoded = Envelope(
            topic: "orders", wireHeaders: wire, payload: original.payload, fallbackID: "unused",
            fallbackTimestamp: Date(timeIntervalSince1970: 0)
        )
        #expect(decoded == original)
        #expect(decoded.headers == original.headers, "courier-* headers must not leak into application headers")
    }

    @Test func minimalEnvelopeWritesOnlyIDAndTimestamp() {
        let envelope = Envelope(topic: "t", payload: [], id: "m-1", timestamp: timestamp)
        #expect(envelope.wireHeaders == [CourierHeader.id: "m-1", CourierHeader.timestamp: "1700000000123"])
        let decoded = Envelope(topic: "t", wireHeaders: envelope.wireHeaders, payload: [], fallbackID: "other")
        #expect(decoded == envelope)
        #expect(decoded.idempotencyKey == "m-1")
    }

    @Test func foreignMessageUsesFallbacksAndKeepsHeaders() throws {
        let foreign = [
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "tracestate": "rojo=00f067aa0ba902b7",
            "x-origin": "legacy-producer",
        ]
        let fallbackTime = Date(timeIntervalSince1970: 1_600_000_000)
        let envelope = Envelope(
            topic: "orders", wireHeaders: foreign, payload: [42], fallbackID: "kafka:orders:3:1207",
            fallbackTimestamp: fallbackTime
        )
        #expect(envelope.id == "kafka:orders:3:1207")
        #expect(envelope.idempotencyKey == "kafka:orders:3:1207")
        #expect(envelope.headers == foreign)
        #expect(envelope.timestamp == fallbackTime)
        #expect(envelope.topic == "orders")
        #expect(envelope.payload == [42])
        #expect(envelope.priority == nil)
        #expect(envelope.orderingKey == nil)
        #expect(envelope.contentType == nil)
        #expect(envelope.correlationID == nil)
        try envelope.validate()
    }

    @Test func emptyCourierIDFallsBack() {
        let envelope = Envelope(
            topic: "t", wireHeaders: [CourierHeader.id: "", CourierHeader.idempotencyKey: ""], payload: [], fallbackID: "broker-7"
        )
        #expect(envelope.id == "broker-7")
        #expect(envelope.idempotencyKey == "broker-7")
        #expect(envelope.headers.isEmpty)
    }

    @Test(arguments: ["yesterday", "", "12.5", "99999999999999999999999"])
    func malformedTimestampIsIgnored(value: String) {
        let fallbackTime = Date(timeIntervalSince1970: 1_600_000_000)
        let envelope = Envelope(
            topic: "t", wireHeaders: [CourierHeader.id: "m-1", CourierHeader.timestamp: value, "traceparent": "tp"],
            payload: [], fallbackID: "f", fallbackTimestamp: fallbackTime
        )
        #expect(envelope.timestamp == fallbackTime)
        #expect(envelope.id == "m-1")
        #expect(envelope.headers == ["traceparent": "tp"])
    }

    @Test(arguments: ["10", "255", "256", "-1", "high", ""])
    func malformedPriorityIsIgnored(value: String) throws {
        let envelope = Envelope(
            topic: "t", wireHeaders: [CourierHeader.id: "m-1", CourierHeader.priority: value], payload: [], fallbackID: "f"
        )
        #expect(envelope.priority == nil)
        #expect(envelope.headers.isEmpty)
        try envelope.validate()
    }

    @Test func validPriorityBoundsAreRead() {
        for priority in [UInt8(0), Envelope.maxPriority] {
            let envelope = Envelope(topic: "t", wireHeaders: [CourierHeader.priority: String(priority)], payload: [], fallbackID: "f")
            #expect(envelope.priority == priority)
        }
    }

    @Test func reservedNamespace() {
        #expect(CourierHeader.isReserved(CourierHeader.attempt))
        #expect(CourierHeader.isReserved("courier-anything"))
        #expect(!CourierHeader.isReserved("traceparent"))
        #expect(!CourierHeader.isReserved("x-courier-id"))
        let names = [
            CourierHeader.id, CourierHeader.idempotencyKey, CourierHeader.correlationID, CourierHeader.contentType,
            CourierHeader.timestamp, CourierHeader.orderingKey, CourierHeader.priority, CourierHeader.attempt,
            CourierHeader.faultReason, CourierHeader.faultErrorType, CourierHeader.faultMessage, CourierHeader.faultTopic,
            CourierHeader.faultPartition, CourierHeader.faultOffset, CourierHeader.faultAttempts, CourierHeader.faultFailedAt,
            CourierHeader.faultConsumerGroup, CourierHeader.faultHost, CourierHeader.faultTransport,
        ]
        #expect(names.allSatisfy(CourierHeader.isReserved))
        #expect(Set(names).count == names.count, "header names must be distinct")
    }
}
