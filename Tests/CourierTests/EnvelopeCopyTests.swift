import Courier
import Foundation
import Testing

/// Envelope keeps its fields behind one shared reference; these pin down that it still behaves as a value.
@Suite("Envelope copies are values")
struct EnvelopeCopyTests {
    @Test func changingACopyLeavesTheOriginalAlone() {
        let original = Envelope(topic: "orders", payload: [1, 2, 3], id: "m-1", headers: ["a": "1"])
        var copy = original
        copy.headers["b"] = "2"
        copy.payload.append(4)
        copy.topic = "invoices"
        copy.orderingKey = "k"
        #expect(original.headers == ["a": "1"])
        #expect(original.payload == [1, 2, 3])
        #expect(original.topic == "orders")
        #expect(original.orderingKey == nil)
        #expect(copy.headers == ["a": "1", "b": "2"])
        #expect(copy.payload == [1, 2, 3, 4])
        #expect(copy.topic == "invoices")
    }

    @Test func equalFieldsMakeEqualEnvelopesWithEqualHashes() {
        let time = Date(timeIntervalSince1970: 1_700_000_000)
        let one = Envelope(topic: "t", payload: [9], id: "m-1", orderingKey: "k", headers: ["h": "v"], timestamp: time)
        let two = Envelope(topic: "t", payload: [9], id: "m-1", orderingKey: "k", headers: ["h": "v"], timestamp: time)
        #expect(one == two)
        #expect(one.hashValue == two.hashValue)
        #expect(Set([one, two]).count == 1)
        var three = two
        three.priority = 3
        #expect(three != one)
        three.priority = nil
        #expect(three == one)
    }

    @Test func aDeliveryKeepsTheEnvelopeItWasGiven() {
        var envelope = Envelope(topic: "t", payload: [1], id: "m-1")
        let delivery = Delivery(
            envelope: envelope, deliveryCount: 2, source: DeliverySource(transport: "memory://a", topic: "t", partition: 3, offset: 7),
            tag: 11, settler: NoSettler()
        )
        envelope.headers["later"] = "x"
        #expect(delivery.envelope.headers.isEmpty)
        #expect(delivery.deliveryCount == 2)
        #expect(delivery.isRedelivery)
        #expect(delivery.tag == 11)
        #expect(delivery.source.partition == 3)
        #expect(delivery.source.offset == 7)
    }

    private struct NoSettler: DeliverySettler {
        func settle(tag: UInt64, _ action: SettleAction) async throws {}
    }
}

@Suite("Envelope timestamps outside what transports carry")
struct EnvelopeTimestampRangeTests {
    @Test(arguments: [Double.infinity, -Double.infinity, Double.nan, 1e20, -1e15])
    func aTimestampNoTransportCanCarryIsRefusedWithTheFix(seconds: Double) {
        let envelope = Envelope(topic: "t", payload: [], id: "m-1", timestamp: Date(timeIntervalSince1970: seconds))
        #expect {
            try envelope.validate()
        } throws: { error in
            guard let error = error as? CourierError else { return false }
            return error.code == .invalidMessage && error.message.contains("timestamp") && error.message.contains("set a real date")
        }
        // Converting it never traps: the wire headers clamp it.
        #expect(envelope.wireHeaders[CourierHeader.timestamp] != nil)
    }

    @Test func ordinaryAndEarlyDatesPass() throws {
        for seconds in [0, -86_400 * 365 * 100, 1_700_000_000.123] as [Double] {
            let envelope = Envelope(topic: "t", payload: [], id: "m-1", timestamp: Date(timeIntervalSince1970: seconds))
            try envelope.validate()
            #expect(envelope.timestampMilliseconds == Int64((seconds * 1000).rounded()))
        }
    }
}
