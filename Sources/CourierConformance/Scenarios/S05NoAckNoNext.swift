import Courier

extension ScenarioRun {
    /// 5. With prefetch 1 and one ordering key, holding the first message unacked means the second is
    /// not delivered; once the first is acked, the second is.
    func noAckNoNext() async throws {
        let topic = try await makeTopic()
        let ledger = ledger(topic)
        let first = message(0, topic: topic, key: "flow")
        let second = message(1, topic: topic, key: "flow")
        let transport = try await makeTransport()
        let consumer = try await subscribeAndConsume(transport, topic: topic, prefetch: 1, into: ledger, member: "subscriber") { delivery, _ in
            delivery.envelope.id == first.id ? .hold : .ack
        }
        let publisher = try await makeTransport()
        await publishInOrder([first, second], via: publisher, into: ledger)
        try await waitUntil("the first message arrives") { ledger.arrivalCount >= 1 }
        if let arrived = ledger.arrivals.first, arrived.id != first.id {
            fail("the first delivery was \(arrived.id), but \(first.id) was published first with the same ordering key")
        }
        activity.begin("watching for \(options.quietPeriod) that nothing else arrives while \(first.id) is unacked")
        try await Task.sleep(for: options.quietPeriod)
        let early = ledger.arrivals.dropFirst().map(\.id)
        if !early.isEmpty {
            fail("\(listing(early)) arrived while \(first.id) was unacked with prefetch 1 and the same ordering key (no flow control)")
        }
        await consumer.settleHeld(.ack)
        try await waitForEverything(in: [ledger])
    }
}
