import Courier

extension ScenarioRun {
    /// 8. Every message is nacked with requeue several times before it is acked: the subscription keeps
    /// delivering through all the nacks, and every message is finally read.
    func continueAfterErrors() async throws {
        let topic = try await makeTopic()
        let ledger = ledger(topic)
        let rounds = max(1, counts.nackRounds)
        let transport = try await makeTransport()
        _ = try await subscribeAndConsume(transport, topic: topic, into: ledger, member: "subscriber") { delivery, ledger in
            ledger.nackCount(of: delivery.envelope.id) < rounds ? .requeue : .ack
        }
        let publisher = try await makeTransport()
        let envelopes = (0..<counts.errorMessages).map { message($0, topic: topic) }
        afterwards {
            let short = envelopes.map(\.id).filter { ledger.nackCount(of: $0) < rounds }
            if !short.isEmpty {
                self.fail("the subscription stopped delivering after nacks: \(counted(short.count, "message")) never reached \(rounds) nacks (\(listing(short)))")
            }
        }
        await publishInOrder(envelopes, via: publisher, into: ledger)
        try await waitForEverything(in: [ledger])
        note("each message nacked \(counted(rounds, "time")) before its ack")
    }
}
