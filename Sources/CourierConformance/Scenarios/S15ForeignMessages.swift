import Courier

extension ScenarioRun {
    /// 15. Messages published by another client, with plain headers and no `courier-*` ones, arrive
    /// with a non-empty id unique per message, an idempotency key equal to that id, the payload as sent
    /// and the headers kept.
    func foreignMessages() async throws {
        guard let publishForeign = options.publishForeign else { return }
        let topic = try await makeTopic()
        // Foreign messages get ids we cannot know in advance: they are booked under the marker in their payload.
        let ledger = ledger(topic, keepsEnvelopes: true) { $0.text ?? "payload of \($0.payload.count) bytes, not UTF-8" }
        let transport = try await makeTransport()
        let count = max(1, counts.foreignMessages)
        let markers = (0..<count).map { "\(idPrefix)foreign\($0)" }
        _ = try await subscribeAndConsume(transport, topic: topic, into: ledger, member: "subscriber")
        for (index, marker) in markers.enumerated() {
            let foreign = ForeignMessage(topic: topic, payload: Array(marker.utf8), headers: [
                "x-origin": "another-client",
                "x-index": String(index),
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ])
            ledger.attempted(marker)
            activity.begin("publishing foreign message \(index + 1) of \(count)")
            do {
                try await publishForeign(foreign)
                ledger.confirmed(marker)
            } catch {
                fail("publishing foreign message \(index + 1) through the hook failed: \(error)")
            }
        }
        try await waitForEverything(in: [ledger])
        checkForeign(ledger, markers: markers)
    }

    private func checkForeign(_ ledger: Ledger, markers: [String]) {
        var ids: [String: String] = [:]
        for (index, marker) in markers.enumerated() {
            guard let envelope = ledger.envelope(marker) else { continue }
            if envelope.id.isEmpty { fail("foreign message \(index + 1) arrived with an empty id") }
            if let other = ids[envelope.id] { fail("foreign messages \(other) and \(marker) arrived with the same id \(envelope.id)") }
            ids[envelope.id] = marker
            if envelope.idempotencyKey != envelope.id {
                fail("foreign message \(index + 1): idempotency key \(envelope.idempotencyKey) is not its id \(envelope.id)")
            }
            for (name, value) in ["x-origin": "another-client", "x-index": String(index)] where envelope.headers[name] != value {
                fail("foreign message \(index + 1): header \(name) is \(envelope.headers[name] ?? "missing"), sent \(value)")
            }
        }
        if let example = ledger.envelope(markers[0]) { note("foreign message ids look like \(example.id)") }
    }
}
