import Courier
import Foundation

extension ScenarioRun {
    /// 1. Messages with varied payloads (empty, binary, UTF-8) and headers round-trip: id, payload,
    /// application headers (W3C trace context among them), idempotency key, correlation id, content type,
    /// ordering key and topic arrive as sent; the timestamp within a second.
    func publishSubscribe() async throws {
        let topic = try await makeTopic()
        let ledger = ledger(topic, keepsEnvelopes: true)
        let subscriber = try await makeTransport()
        let publisher = try await makeTransport()
        _ = try await subscribeAndConsume(subscriber, topic: topic, into: ledger, member: "subscriber")

        let envelopes = (0..<counts.roundTripMessages).map { roundTripEnvelope($0, topic: topic) }
        await publishInOrder(envelopes, via: publisher, into: ledger)
        try await waitForEverything(in: [ledger])

        var mismatches: [String] = []
        for sent in envelopes {
            guard let received = ledger.envelope(sent.id) else { continue }
            mismatches += differences(sent: sent, received: received)
        }
        if !mismatches.isEmpty {
            fail("\(counted(mismatches.count, "field")) did not round-trip: \(mismatches.prefix(8).joined(separator: "; "))")
        }
    }

    private func roundTripEnvelope(_ index: Int, topic: String) -> Envelope {
        let payload: [UInt8] = switch index % 4 {
        case 0: index == 0 ? [] : Array("plain text \(index)".utf8)
        case 1: (0..<256).map { UInt8(($0 + index) % 256) }
        case 2: Array("grüße, 世界, ✓ \(index)".utf8)
        default: Array(repeating: UInt8(index % 256), count: 1000 + index)
        }
        return Envelope(
            topic: topic,
            payload: payload,
            id: "\(idPrefix)m\(index)",
            idempotencyKey: index % 3 == 0 ? "business-key-\(index)" : nil,
            orderingKey: index % 5 == 0 ? "key-\(index % 2)" : nil,
            headers: [
                "conformance-index": String(index),
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e\(String(format: "%04x", index))-00f067aa0ba902b7-01",
                "tracestate": "congo=t61rcWkgMzE",
                "x-unicode": "größe ✓ \(index)",
            ],
            contentType: index % 2 == 0 ? "application/octet-stream" : nil,
            timestamp: Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000),
            correlationID: index % 2 == 1 ? "correlation-\(index)" : nil
        )
    }

    private func differences(sent: Envelope, received: Envelope) -> [String] {
        var found: [String] = []
        let id = sent.id
        if received.payload != sent.payload {
            found.append("\(id) payload: sent \(sent.payload.count) bytes, received \(received.payload.count) (or different bytes)")
        }
        for (name, value) in sent.headers.sorted(by: { $0.key < $1.key }) where received.headers[name] != value {
            found.append("\(id) header \(name): sent \"\(value)\", received \(received.headers[name].map { "\"\($0)\"" } ?? "nothing")")
        }
        if received.idempotencyKey != sent.idempotencyKey {
            found.append("\(id) idempotency key: sent \(sent.idempotencyKey), received \(received.idempotencyKey)")
        }
        if received.correlationID != sent.correlationID {
            found.append("\(id) correlation id: sent \(sent.correlationID ?? "none"), received \(received.correlationID ?? "none")")
        }
        if received.contentType != sent.contentType {
            found.append("\(id) content type: sent \(sent.contentType ?? "none"), received \(received.contentType ?? "none")")
        }
        if received.orderingKey != sent.orderingKey {
            found.append("\(id) ordering key: sent \(sent.orderingKey ?? "none"), received \(received.orderingKey ?? "none")")
        }
        if received.topic != sent.topic {
            found.append("\(id) topic: sent \(sent.topic), received \(received.topic)")
        }
        if abs(received.timestamp.timeIntervalSince(sent.timestamp)) >= 1 {
            found.append("\(id) timestamp: sent \(sent.timestamp), received \(received.timestamp)")
        }
        return found
    }
}
