import Courier

extension ScenarioRun {
    /// 4. The first few messages are nacked with requeue on their first delivery: they must come back
    /// and be read, with everything else.
    func redeliveryOnNack() async throws {
        let topic = try await makeTopic()
        let ledger = ledger(topic)
        let envelopes = (0..<counts.nackMessages).map { message($0, topic: topic) }
        let nacked = Set(envelopes.prefix(counts.nackedMessages).map(\.id))
        let transport = try await makeTransport()
        _ = try await subscribeAndConsume(transport, topic: topic, into: ledger, member: "subscriber") { delivery, ledger in
            let id = delivery.envelope.id
            return nacked.contains(id) && ledger.nackCount(of: id) == 0 ? .requeue : .ack
        }
        afterwards {
            let neverNacked = nacked.filter { ledger.nackCount(of: $0) == 0 }.sorted(by: naturalOrder)
            let notBack = nacked.filter { ledger.nackCount(of: $0) > 0 && !ledger.wasProcessed($0) }.sorted(by: naturalOrder)
            if !notBack.isEmpty {
                self.fail("\(counted(notBack.count, "message")) nacked with requeue never came back: \(listing(notBack))")
            }
            if !neverNacked.isEmpty {
                self.fail("\(counted(neverNacked.count, "message")) to nack never arrived: \(listing(neverNacked))")
            }
        }
        let publisher = try await makeTransport()
        await publishInOrder(envelopes, via: publisher, into: ledger)
        try await waitForEverything(in: [ledger])
        let redelivered = ledger.arrivals.filter { nacked.contains($0.id) && $0.deliveryCount > 1 }.count
        note("\(nacked.count) nacked once; \(redelivered) of their redeliveries carried a delivery count above 1")
    }
}
