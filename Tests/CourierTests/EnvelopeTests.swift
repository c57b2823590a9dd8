import Courier
import Foundation
import Testing

@Suite("Envelope")
struct EnvelopeTests {
    @Test func idempotencyKeyDefaultsToTheID() {
        let envelope = Envelope(topic: "orders", payload: [1, 2, 3])
        #expect(!envelope.id.isEmpty)
        #expect(envelope.idempotencyKey == envelope.id)
        #expect(envelope.id == envelope.id.lowercased())
        #expect(UUID(uuidString: envelope.id) != nil)
    }

    @Test func explicitIdempotencyKeyIsKept() {
        let envelope = Envelope(topic: "orders", payload: [], id: "m-1", idempotencyKey: "order-42")
        #expect(envelope.id == "m-1")
        #expect(envelope.idempotencyKey == "order-42")
    }

    @Test func idsAreUnique() {
        let ids = (0..<1_000).map { _ in Envelope(topic: "t", payload: []).id }
        #expect(Set(ids).count == 1_000)
    }

    @Test func textInitializerSetsPayloadAndContentType() {
        let envelope = Envelope(topic: "greetings", text: "héllo", headers: ["traceparent": "00-abc-def-01"])
        #expect(envelope.payload == Array("héllo".utf8))
        #expect(envelope.text == "héllo")
        #expect(envelope.contentType == "text/plain")
        #expect(envelope.headers == ["traceparent": "00-abc-def-01"])
        #expect(envelope.idempotencyKey == envelope.id)
    }

    @Test func textIsNilForInvalidUTF8() {
        #expect(Envelope(topic: "t", payload: [0xFF, 0xFE]).text == nil)
    }

    @Test func validEnvelopePassesValidation() throws {
        try Envelope(topic: "t", payload: [1, 2, 3, 4], priority: Envelope.maxPriority).validate(maxPayloadBytes: 4)
        try Envelope(topic: "t", payload: Array(repeating: 0, count: 10_000)).validate()
    }

    @Test func emptyTopicIsRejectedWithTheFix() throws {
        let envelope = Envelope(topic: "", payload: [], id: "m-1")
        let error = try #require(throws: CourierError.self) { try envelope.validate() }
        #expect(error.code == .invalidMessage)
        #expect(error.message.contains("m-1"))
        #expect(error.message.contains("empty topic"))
        #expect(error.message.contains("set Envelope.topic"))
    }

    @Test func emptyIDIsRejected() throws {
        let envelope = Envelope(topic: "orders", payload: [], id: "", idempotencyKey: "k")
        let error = try #require(throws: CourierError.self) { try envelope.validate() }
        #expect(error.code == .invalidMessage)
        #expect(error.message.contains("empty id"))
        #expect(error.message.contains("orders"))
    }

    @Test func emptyIdempotencyKeyIsRejected() throws {
        let envelope = Envelope(topic: "orders", payload: [], id: "m-1", idempotencyKey: "")
        let error = try #require(throws: CourierError.self) { try envelope.validate() }
        #expect(error.code == .invalidMessage)
        #expect(error.message.contains("empty idempotency key"))
    }

    @Test func priorityTenIsRejectedWithTheRange() throws {
        let envelope = Envelope(topic: "t", payload: [], id: "m-1", priority: 10)
        let error = try #require(throws: CourierError.self) { try envelope.validate() }
        #expect(error.code == .invalidMessage)
        #expect(error.message.contains("priority 10"))
        #expect(error.message.contains("from 0 to 9"))
        #expect(!error.isRetriable)
    }

    @Test func oversizedPayloadIsRejectedWithTheFix() throws {
        let envelope = Envelope(topic: "t", payload: [1, 2, 3, 4, 5], id: "m-1")
        let error = try #require(throws: CourierError.self) { try envelope.validate(maxPayloadBytes: 4) }
        #expect(error.code == .messageTooLarge)
        #expect(error.message.contains("5 payload bytes"))
        #expect(error.message.contains("at most 4"))
        #expect(error.message.contains("Split the payload or raise the transport's limit"))
    }

    @Test func topicIsCheckedBeforeSize() throws {
        let envelope = Envelope(topic: "", payload: [1, 2, 3])
        let error = try #require(throws: CourierError.self) { try envelope.validate(maxPayloadBytes: 1) }
        #expect(error.code == .invalidMessage)
    }
}
